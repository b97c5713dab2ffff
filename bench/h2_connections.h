// H2Connections is one load thread's HTTP/2 cleartext connections to
// 127.0.0.1:port for the raw gRPC event load: each an H2Session on a
// non-blocking socket (TCP_NODELAY) in the thread's epoll set. Calls go to a
// connection the caller picks; a connection opens on first use, and again
// after it broke or went away (GOAWAY) for the calls that had not gone out
// on it. A call that was sent is never resent: a broken connection ends it
// with "h2:eof", "h2:protocol" or "tcp:<errno name>" ("tcp:ECONNREFUSED" for
// the calls of a connect that failed).
//
// Not thread-safe: the load thread's own.
#ifndef WRIT_BENCH_H2_CONNECTIONS_H_
#define WRIT_BENCH_H2_CONNECTIONS_H_

#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "bench/h2_session.h"

namespace writ::bench {

class H2Connections {
 public:
  // Done is told how each call ended. It must not call back into the
  // H2Connections that called it.
  using Done = std::function<void(int tag, bool ok, const std::string& error_kind)>;

  // `n` connections to 127.0.0.1:`port`, registered in `epoll_fd` with
  // data.ptr pointing into this object (never nullptr). `header_block` (the
  // requests' HPACK block) and `epoll_fd` must outlive it.
  H2Connections(int epoll_fd, int port, int n, absl::string_view header_block, Done done);
  ~H2Connections();
  H2Connections(const H2Connections&) = delete;
  H2Connections& operator=(const H2Connections&) = delete;

  // Submit starts a call on connection `conn`. Its frames are written by the
  // next Flush. `message` (the gRPC-framed request) must stay valid until
  // the call's end is reported or it is cancelled. A connect that fails at
  // once reports the end before Submit returns.
  void Submit(int conn, int tag, absl::string_view message);

  // Cancel forgets a call on `conn` (RST_STREAM if it went out); its end is
  // not reported.
  void Cancel(int conn, int tag);

  // OnEvent handles the epoll events of a `data` pointer it registered.
  void OnEvent(void* data, uint32_t events);

  // Flush writes what the connections have to write: one write per
  // connection for everything Submit and OnEvent queued since the last one.
  void Flush();
  // has_output is true when Flush has something to do.
  bool has_output() const { return !dirty_.empty(); }

  // CloseBusy closes every connection with calls on it; their ends are not
  // reported. The drain limit's way out.
  void CloseBusy();

 private:
  struct Conn {
    int fd = -1;
    unsigned generation = 0;  // bumped on close: the fd number may come back
    bool connecting = false;
    bool want_out = false;               // EPOLLOUT is in the interest set
    bool dirty = false;                  // in dirty_
    std::unique_ptr<H2Session> session;  // null while closed
  };

  std::string Connect(Conn& c);
  void Write(Conn& c);
  void MarkDirty(Conn& c);
  void Read(Conn& c);
  void Lost(Conn& c, const std::string& kind);
  void Settle(Conn& c);
  void Report(const std::vector<H2CallResult>& results);
  void CloseFd(Conn& c);
  void SetWantOut(Conn& c, bool want);

  const int epoll_fd_;
  const absl::string_view header_block_;
  const Done done_;
  sockaddr_in addr_{};
  std::vector<Conn> conns_;  // never resized: epoll holds pointers into it
  std::unique_ptr<char[]> read_buf_;
  std::vector<H2CallResult> results_;  // Read's scratch
  std::vector<Conn*> dirty_;           // connections with output to write
  std::vector<Conn*> flushing_;        // Flush's working copy of dirty_
};

}  // namespace writ::bench

#endif  // WRIT_BENCH_H2_CONNECTIONS_H_
