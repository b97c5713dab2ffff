// H2Session is the client side of one HTTP/2 (h2c) connection carrying unary
// gRPC calls, as a state machine over bytes: calls go in as gRPC-framed
// request messages, bytes read from the connection go in, and out come the
// bytes to write and each call's result. No sockets, so its protocol
// handling (flow control, SETTINGS, PING, GOAWAY, RST_STREAM, CONTINUATION)
// is tested frame by frame (h2_session_test.cc); grpc_raw_event_load.cc
// drives it on epoll.
//
// It never decodes HPACK: a call succeeds when its stream delivered one
// complete gRPC message with an access token and then ended; a stream that
// ends otherwise is named by a literal grpc-status in its trailers
// (ScanGrpcStatus; the preface asks the server for no dynamic table, so the
// status is not indexed), or "grpc:error" if there is none.
//
// Not thread-safe: one owner, one connection.
#ifndef WRIT_BENCH_H2_SESSION_H_
#define WRIT_BENCH_H2_SESSION_H_

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "bench/h2_wire.h"

namespace writ::bench {

// H2CallResult is how one call ended.
struct H2CallResult {
  int tag = 0;  // as given to Submit
  bool ok = false;
  std::string error_kind;  // when !ok: "grpc:PERMISSION_DENIED", "h2:RST_STREAM", ...
};

class H2Session {
 public:
  // `header_block` is every request's HPACK block (GrpcRequestHeaderBlock);
  // it must outlive the session. The client preface is queued at once.
  explicit H2Session(absl::string_view header_block);

  // Submit queues a call: a new stream as soon as MAX_CONCURRENT_STREAMS
  // allows and the session is accepting(), its DATA as the send windows
  // allow. `message` is the gRPC-framed request; its bytes must stay valid
  // until the call's result is reported, Cancel or TakeUnsent.
  void Submit(int tag, absl::string_view message);

  // Receive consumes bytes read from the connection and appends the results
  // of the calls that ended to `done`. False on a connection error (a frame
  // over 16 KiB, bad padding or lengths, PUSH_PROMISE): then nothing else is
  // read, and the owner calls Fail("h2:protocol").
  bool Receive(absl::string_view bytes, std::vector<H2CallResult>* done);

  // Cancel forgets the call: RST_STREAM (CANCEL) if its stream is open,
  // taken off the queue if not. No result is reported for it.
  void Cancel(int tag);

  // Fail ends every call with an open stream with `kind` (the connection
  // broke) and stops accepting; calls without a stream stay for TakeUnsent.
  void Fail(const std::string& kind, std::vector<H2CallResult>* done);

  // TakeUnsent hands back the calls that have no stream yet (tag, message),
  // oldest first, so the owner can send them on a new connection.
  std::vector<std::pair<int, absl::string_view>> TakeUnsent();

  // output is what to write to the connection next; the owner erases what
  // it wrote.
  std::string* output() { return &out_; }

  // accepting is false once no new stream may open here: after GOAWAY, Fail,
  // a connection error or the last stream id. The owner then moves the
  // unsent calls to a new connection when open_streams() reaches 0.
  bool accepting() const { return !going_away_ && !dead_ && next_id_ <= kLastStreamId; }
  int open_streams() const { return static_cast<int>(streams_.size()); }
  int unsent() const { return static_cast<int>(waiting_.size()); }

 private:
  static constexpr uint32_t kLastStreamId = 0x7fffffff;

  struct Stream {
    int tag = 0;
    uint32_t id = 0;
    absl::string_view body;  // the request message, DATA still to send after `sent`
    size_t sent = 0;
    int64_t window = 0;  // the server's receive window for this stream
    std::string data;    // response DATA so far, when a message spans frames
    bool got_message = false;
    bool has_token = false;
    const char* bad_message = nullptr;  // "grpc:compressed" or "grpc:too_large"
    bool ending = false;                // END_STREAM seen on a header block still continuing
    std::string trailers;               // the ending header block
  };

  bool OnFrame(const H2Frame& frame, std::vector<H2CallResult>* done);
  bool OnSettings(absl::string_view payload);
  void OnData(Stream& s, absl::string_view content);
  void End(size_t index, std::vector<H2CallResult>* done);
  void Drop(size_t index, const char* kind, std::vector<H2CallResult>* done);
  Stream* Find(uint32_t id, size_t* index);
  // Pump opens streams for queued calls and sends the DATA the windows let.
  void Pump();

  absl::string_view header_block_;
  std::string out_;
  std::string in_;  // an incomplete frame left over from the last Receive
  std::vector<Stream> streams_;
  std::deque<std::pair<int, absl::string_view>> waiting_;
  uint32_t next_id_ = 1;
  int sending_ = 0;  // streams with DATA still to send
  bool going_away_ = false;
  bool dead_ = false;
  // The server's settings and our send window on the connection.
  int64_t conn_window_;
  int64_t initial_window_;
  uint32_t max_concurrent_ = 0xffffffff;
  uint32_t max_frame_;
  int64_t received_ = 0;     // DATA bytes since our last connection WINDOW_UPDATE
  uint32_t continuing_ = 0;  // stream whose header block CONTINUATION frames extend
  std::vector<std::pair<uint16_t, uint32_t>> settings_;  // scratch
};

}  // namespace writ::bench

#endif  // WRIT_BENCH_H2_SESSION_H_
