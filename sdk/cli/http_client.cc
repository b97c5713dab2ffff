#include "sdk/cli/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace writ::cli {
namespace {

constexpr size_t kMaxReplyBytes = 1 << 20;

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > kMaxReplyBytes) return 0;  // aborts the transfer
  out->append(data, size * n);
  return size * n;
}

absl::string_view HostOf(absl::string_view url) {
  size_t start = url.find("://");
  if (start == absl::string_view::npos) return "";
  url.remove_prefix(start + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (size_t at = url.rfind('@'); at != absl::string_view::npos) url.remove_prefix(at + 1);
  if (absl::StartsWith(url, "[")) return url.substr(0, url.find(']') + 1);
  return url.substr(0, url.find(':'));
}

absl::StatusOr<HttpReply> Perform(absl::string_view url, curl_slist* headers,
                                  const std::string* post_body) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return absl::InternalError("curl_easy_init failed");
  HttpReply reply;
  std::string url_str(url);
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url_str.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  if (headers != nullptr) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (post_body != nullptr) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, post_body->c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(post_body->size()));
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("cannot reach ", HostOf(url), ": ",
                                               error[0] ? error : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

std::string Escape(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
  std::string out = e != nullptr ? e : "";
  curl_free(e);
  return out;
}

}  // namespace

absl::Status CheckSecureUrl(absl::string_view url, absl::string_view what) {
  if (absl::StartsWith(url, "https://")) return absl::OkStatus();
  if (absl::StartsWith(url, "http://")) {
    // Only a literal loopback address (or "localhost"): "127.evil.example"
    // is a DNS name that merely starts like one.
    std::string host(HostOf(url));
    in_addr v4{};
    if (host == "[::1]" || host == "localhost" ||
        (::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127)) {
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, " must be an https:// URL (plain http only to a loopback address), got \"",
                   url.substr(0, 100), "\""));
}

absl::StatusOr<HttpReply> HttpGet(absl::string_view url, const std::vector<std::string>& headers) {
  std::unique_ptr<curl_slist, SlistDeleter> list;
  curl_slist* raw = nullptr;
  for (const std::string& h : headers) raw = curl_slist_append(raw, h.c_str());
  list.reset(raw);
  return Perform(url, list.get(), nullptr);
}

absl::StatusOr<HttpReply> HttpPostForm(
    absl::string_view url, const std::vector<std::pair<std::string, std::string>>& form) {
  std::string body;
  for (const auto& [k, v] : form) {
    if (!body.empty()) body += '&';
    absl::StrAppend(&body, Escape(k), "=", Escape(v));
  }
  std::unique_ptr<curl_slist, SlistDeleter> list(curl_slist_append(
      curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded"),
      "Accept: application/json"));
  return Perform(url, list.get(), &body);
}

}  // namespace writ::cli
