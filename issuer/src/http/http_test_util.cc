#include "issuer/src/http/http_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace writ::issuer::http::testing {
namespace {

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t AppendHeader(char* data, size_t size, size_t n, void* user) {
  absl::string_view line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    (*static_cast<std::map<std::string, std::string>*>(
        user))[absl::AsciiStrToLower(line.substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * n;
}

using Clock = std::chrono::steady_clock;

}  // namespace

CurlClient::CurlClient() : curl_(curl_easy_init()) {}
CurlClient::~CurlClient() { curl_easy_cleanup(curl_); }

CurlResult CurlClient::Request(absl::string_view method, const std::string& url,
                               absl::string_view body, const std::vector<std::string>& headers,
                               const std::string& ca_file) {
  CurlResult out;
  CURL* c = curl_;
  curl_easy_reset(c);  // keeps the connection cache
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
  const std::string method_str(method);
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method == "POST" || method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (method == "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method_str.c_str());
  }
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  if (list != nullptr) curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_slist* resolve = nullptr;
  if (!ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
    // https://localhost:PORT/ -> 127.0.0.1 (the certificate names localhost).
    const size_t colon = url.rfind(':');
    const std::string port = url.substr(colon + 1, url.find('/', colon) - colon - 1);
    resolve = curl_slist_append(nullptr, absl::StrCat("localhost:", port, ":127.0.0.1").c_str());
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  } else {
    out.error = curl_easy_strerror(rc);
  }
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &out.connects);
  curl_slist_free_all(list);
  curl_slist_free_all(resolve);
  return out;
}

RawSocket::RawSocket(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    connect_errno_ = errno;
    close(fd);
    return;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) close(fd_);
}

void RawSocket::ShutdownWrite() {
  if (fd_ >= 0) shutdown(fd_, SHUT_WR);
}

bool RawSocket::Send(absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int RawSocket::Recv(std::string* out, std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  const int r = poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) return -1;
  char buf[65536];
  const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) return 0;  // closed or reset
  out->append(buf, static_cast<size_t>(n));
  return static_cast<int>(n);
}

std::string RawSocket::ReadUntilClosed(std::chrono::milliseconds timeout, bool* closed) {
  std::string out = std::move(pending_);
  pending_.clear();
  const auto end = Clock::now() + timeout;
  if (closed != nullptr) *closed = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    if (left.count() <= 0) return out;
    const int r = Recv(&out, left);
    if (r == 0) {
      if (closed != nullptr) *closed = true;
      return out;
    }
  }
}

std::string RawSocket::ReadAtLeast(size_t n, std::chrono::milliseconds timeout) {
  std::string out = std::move(pending_);
  pending_.clear();
  const auto end = Clock::now() + timeout;
  while (out.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    if (left.count() <= 0 || Recv(&out, left) <= 0) break;
  }
  if (out.size() > n) {
    pending_ = out.substr(n);
    out.resize(n);
  }
  return out;
}

std::string RawSocket::ReadResponse(std::chrono::milliseconds timeout) {
  std::string out = std::move(pending_);
  pending_.clear();
  const auto end = Clock::now() + timeout;
  for (;;) {
    const size_t head_end = out.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      size_t length = 0;
      const std::string head = absl::AsciiStrToLower(out.substr(0, head_end));
      const size_t cl = head.find("\r\ncontent-length:");
      if (cl != std::string::npos) {
        const size_t eol = head.find("\r\n", cl + 2);
        (void)absl::SimpleAtoi(
            absl::StripAsciiWhitespace(
                head.substr(cl + 17, eol == std::string::npos ? std::string::npos : eol - cl - 17)),
            &length);
      }
      // An interim 100 has no body; HEAD answers are not used with this helper.
      if (StatusOf(out) == 100) length = 0;
      const size_t total = head_end + 4 + length;
      if (out.size() >= total) {
        pending_ = out.substr(total);
        out.resize(total);
        return out;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    if (left.count() <= 0 || Recv(&out, left) <= 0) return out;
  }
}

std::chrono::milliseconds RawSocket::WaitClosed(std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  const auto end = start + timeout;
  std::string sink;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    if (left.count() <= 0) return std::chrono::milliseconds(-1);
    if (Recv(&sink, left) == 0) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    }
  }
}

int OpenFds() {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++n;
  }
  return n;
}

int StatusOf(absl::string_view response) {
  int status = 0;
  if (!absl::ConsumePrefix(&response, "HTTP/1.1 ") || response.size() < 3 ||
      !absl::SimpleAtoi(response.substr(0, 3), &status)) {
    return 0;
  }
  return status;
}

}  // namespace writ::issuer::http::testing
