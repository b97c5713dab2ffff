// Test helpers for HttpServer: a libcurl client that keeps its connection,
// a raw loopback socket for what curl will not send, and an fd counter.
#ifndef WRIT_ISSUER_HTTP_HTTP_TEST_UTIL_H_
#define WRIT_ISSUER_HTTP_HTTP_TEST_UTIL_H_

#include <curl/curl.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace writ::issuer::http::testing {

struct CurlResult {
  long status = 0;    // 0 when the transfer failed
  std::string error;  // curl's message when it failed
  std::string body;
  std::map<std::string, std::string> headers;  // names lowercased
  long connects = 0;                           // new connections this transfer made
};

// CurlClient is one libcurl easy handle: requests reuse its connection.
class CurlClient {
 public:
  CurlClient();
  ~CurlClient();
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  // Request performs `method` on `url`; POST/PUT send `body`. Extra headers
  // as "Name: value". `ca_file` set: https trusting only that PEM file, and
  // "localhost" resolves to 127.0.0.1.
  CurlResult Request(absl::string_view method, const std::string& url, absl::string_view body = "",
                     const std::vector<std::string>& headers = {}, const std::string& ca_file = "");

 private:
  CURL* curl_;
};

// RawSocket is a blocking loopback TCP connection with timeouts.
class RawSocket {
 public:
  // Connects to 127.0.0.1:port; ok() is false when that failed.
  explicit RawSocket(int port);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  int connect_errno() const { return connect_errno_; }
  // Send writes all of `data`; false on error.
  bool Send(absl::string_view data);
  // ShutdownWrite sends a FIN: no more requests, still reading.
  void ShutdownWrite();
  // ReadUntilClosed reads until the peer closes (or resets) or `timeout`;
  // *closed says whether it closed.
  std::string ReadUntilClosed(std::chrono::milliseconds timeout, bool* closed = nullptr);
  // ReadResponse reads one whole response (head, then Content-Length bytes),
  // or returns what arrived by `timeout`.
  std::string ReadResponse(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
  // ReadExactly reads until `data` holds at least `n` bytes, or timeout.
  std::string ReadAtLeast(size_t n, std::chrono::milliseconds timeout);
  // WaitClosed is how long the peer took to close, or -1 ms if it did not
  // within `timeout`. Data received meanwhile is discarded.
  std::chrono::milliseconds WaitClosed(std::chrono::milliseconds timeout);

 private:
  // Recv reads what is there within `timeout`: >0 bytes, 0 closed, -1 timeout.
  int Recv(std::string* out, std::chrono::milliseconds timeout);

  int fd_ = -1;
  int connect_errno_ = 0;
  std::string pending_;  // read past the last response
};

// OpenFds counts this process's open file descriptors.
int OpenFds();

// StatusOf returns the status code of the response starting `response`, or 0.
int StatusOf(absl::string_view response);

}  // namespace writ::issuer::http::testing

#endif  // WRIT_ISSUER_HTTP_HTTP_TEST_UTIL_H_
