#include "issuer/src/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "issuer/src/http/io_loop.h"
#include "issuer/src/http/tls_context.h"

namespace writ::issuer::http {
namespace {

constexpr int kMaxIoThreads = 64;

absl::Status CheckOptions(const HttpServerOptions& o) {
  if (o.port < 0 || o.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", o.port, " is not 0..65535"));
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError("set both tls_cert_file and tls_key_file, or neither");
  }
  // A request line alone needs some room: "GET / HTTP/1.1\r\nHost: x\r\n\r\n".
  if (o.max_header_bytes < 64) {
    return absl::InvalidArgumentError("max_header_bytes must be at least 64");
  }
  if (o.max_header_bytes > (64u << 20) || o.max_body_bytes > (1u << 30)) {
    return absl::InvalidArgumentError(
        "max_header_bytes must be at most 64 MiB and max_body_bytes at most 1 GiB");
  }
  if (o.read_timeout <= absl::ZeroDuration() || o.idle_timeout <= absl::ZeroDuration() ||
      o.write_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("read_timeout, idle_timeout and write_timeout must be > 0");
  }
  if (o.max_connections < 1) {
    return absl::InvalidArgumentError("max_connections must be at least 1");
  }
  if (o.io_threads < 1 || o.io_threads > kMaxIoThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat("io_threads must be 1..", kMaxIoThreads, ", not ", o.io_threads));
  }
  return absl::OkStatus();
}

// ListenOn binds and listens on host:port; the socket is non-blocking and
// close-on-exec, with SO_REUSEADDR (a restart may bind over TIME_WAIT) but
// not SO_REUSEPORT (a second server cannot share the port).
absl::StatusOr<int> ListenOn(const std::string& host, int port) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  const std::string ip = host == "localhost" ? "127.0.0.1" : host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(*v4);
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(*v6);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "host \"", host, "\" is not an IPv4 or IPv6 address literal or \"localhost\""));
  }
  const std::string where =
      addr.ss_family == AF_INET6 ? absl::StrCat("[", ip, "]:", port) : absl::StrCat(ip, ":", port);
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot make a socket for ", where, ": ", std::strerror(errno)));
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, SOMAXCONN) != 0) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", where, ": ", std::strerror(err)));
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl() = default;
  ~Impl() { Stop(absl::ZeroDuration()); }

  ServerState state;
  SslCtxPtr tls;
  int port = 0;
  std::vector<std::unique_ptr<IoLoop>> loops;  // loop 0 owns the listener
  absl::Mutex lifecycle_mu;  // Start and Stop may be called from different threads
  bool started = false;
  bool stopped = false;

  void Stop(absl::Duration grace) {
    absl::MutexLock lock(&lifecycle_mu);
    if (stopped) return;
    stopped = true;
    if (started) {
      grace = std::clamp(grace, absl::ZeroDuration(), absl::Hours(24));  // no overflow below
      const SteadyTime deadline =
          std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(grace);
      for (auto& loop : loops) loop->RequestStop(deadline);
      for (auto& loop : loops) loop->Join();
    }
    loops.clear();  // closes the listener if Start never ran
  }
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Bind(const HttpServerOptions& options) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  auto impl = std::make_unique<Impl>();
  impl->state.options = options;
  impl->state.limits.max_header_bytes = options.max_header_bytes;
  impl->state.limits.max_body_bytes = options.max_body_bytes;
  if (!options.tls_cert_file.empty()) {
    auto tls = NewServerTlsContext(options.tls_cert_file, options.tls_key_file);
    if (!tls.ok()) return tls.status();
    impl->tls = *std::move(tls);
    impl->state.tls = impl->tls.get();
  }
  auto fd = ListenOn(options.host, options.port);
  if (!fd.ok()) return fd.status();
  impl->port = BoundPort(*fd);
  for (int i = 0; i < options.io_threads; ++i) {
    auto loop = IoLoop::New(&impl->state, i == 0 ? *fd : -1);
    if (!loop.ok()) return loop.status();
    impl->loops.push_back(*std::move(loop));
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(absl::ZeroDuration()); }

int HttpServer::port() const { return impl_->port; }

void HttpServer::Handle(std::string path, Handler handler) {
  if (impl_->started) return;  // the routes are read without a lock once running
  impl_->state.routes.insert_or_assign(std::move(path), std::move(handler));
}

void HttpServer::Start() {
  absl::MutexLock lock(&impl_->lifecycle_mu);
  if (impl_->started || impl_->stopped) return;
  impl_->started = true;
  std::vector<IoLoop*> loops;
  for (auto& loop : impl_->loops) loops.push_back(loop.get());
  for (auto& loop : impl_->loops) loop->Start(loops);
}

void HttpServer::Stop(absl::Duration grace) { impl_->Stop(grace); }

}  // namespace writ::issuer::http
