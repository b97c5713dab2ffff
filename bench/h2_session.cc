#include "bench/h2_session.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "bench/load_clients.h"

namespace writ::bench {

H2Session::H2Session(absl::string_view header_block)
    : header_block_(header_block),
      conn_window_(kH2DefaultWindow),
      initial_window_(kH2DefaultWindow),
      max_frame_(kH2DefaultMaxFrameSize) {
  AppendH2ClientPreface(&out_);
}

void H2Session::Submit(int tag, absl::string_view message) {
  waiting_.emplace_back(tag, message);
  Pump();
}

void H2Session::Pump() {
  while (!waiting_.empty() && accepting() && streams_.size() < max_concurrent_) {
    Stream& s = streams_.emplace_back();
    s.tag = waiting_.front().first;
    s.body = waiting_.front().second;
    waiting_.pop_front();
    s.id = next_id_;
    next_id_ += 2;
    s.window = initial_window_;
    AppendH2FrameHeader(static_cast<uint32_t>(header_block_.size()), kH2Headers, kH2FlagEndHeaders,
                        s.id, &out_);
    out_.append(header_block_.data(), header_block_.size());
    if (s.body.empty()) {
      AppendH2FrameHeader(0, kH2Data, kH2FlagEndStream, s.id, &out_);
    } else {
      ++sending_;
    }
  }
  if (sending_ == 0) return;
  // DATA only as far as both windows reach: the rest waits for WINDOW_UPDATE
  // or a larger SETTINGS_INITIAL_WINDOW_SIZE.
  for (Stream& s : streams_) {
    while (s.sent < s.body.size()) {
      const int64_t n = std::min({static_cast<int64_t>(s.body.size() - s.sent), conn_window_,
                                  s.window, static_cast<int64_t>(max_frame_)});
      if (n <= 0) break;
      const bool last = s.sent + n == s.body.size();
      AppendH2FrameHeader(static_cast<uint32_t>(n), kH2Data, last ? kH2FlagEndStream : 0, s.id,
                          &out_);
      out_.append(s.body.data() + s.sent, n);
      s.sent += n;
      s.window -= n;
      conn_window_ -= n;
      if (last) --sending_;
    }
  }
}

bool H2Session::Receive(absl::string_view bytes, std::vector<H2CallResult>* done) {
  if (dead_) return false;
  // The common case (whole frames in one read) parses the caller's buffer
  // without a copy; only an incomplete tail is kept.
  const bool buffered = !in_.empty();
  if (buffered) in_.append(bytes.data(), bytes.size());
  const absl::string_view data = buffered ? absl::string_view(in_) : bytes;
  size_t used = 0;
  for (;;) {
    H2Frame frame;
    const H2Parse r = ParseH2Frame(data.substr(used), kH2DefaultMaxFrameSize, &frame);
    if (r == H2Parse::kIncomplete) break;
    if (r == H2Parse::kTooLarge || !OnFrame(frame, done)) {
      dead_ = true;
      in_.clear();
      return false;
    }
    used += frame.size;
  }
  if (buffered) {
    in_.erase(0, used);
  } else {
    in_.assign(data.data() + used, data.size() - used);
  }
  Pump();  // windows, settings or freed stream slots may let more go out
  return true;
}

bool H2Session::OnFrame(const H2Frame& f, std::vector<H2CallResult>* done) {
  size_t i = 0;
  Stream* s = nullptr;
  absl::string_view content;
  switch (f.type) {
    case kH2Data:
      if (f.stream_id == 0 || !H2FrameContent(f, &content)) return false;
      // Every DATA byte, padding and dropped streams' included, uses up the
      // connection window we granted: give it back in large steps.
      received_ += static_cast<int64_t>(f.payload.size());
      if (received_ >= kH2MaxWindow / 2) {
        AppendH2WindowUpdate(0, static_cast<uint32_t>(received_), &out_);
        received_ = 0;
      }
      if ((s = Find(f.stream_id, &i)) == nullptr) return true;
      OnData(*s, content);
      if (f.flags & kH2FlagEndStream) End(i, done);
      return true;
    case kH2Headers:
      if (f.stream_id == 0 || !H2FrameContent(f, &content)) return false;
      continuing_ = (f.flags & kH2FlagEndHeaders) ? 0 : f.stream_id;
      if ((s = Find(f.stream_id, &i)) == nullptr) return true;
      // Response headers are not looked at; the block that ends the stream
      // (trailers, or the whole answer when there is no message) is kept
      // for its grpc-status.
      if (f.flags & kH2FlagEndStream) {
        s->ending = true;
        s->trailers.assign(content.data(), content.size());
      }
      if (s->ending && (f.flags & kH2FlagEndHeaders)) End(i, done);
      return true;
    case kH2Continuation:
      if (f.stream_id == 0 || f.stream_id != continuing_) return false;
      if (f.flags & kH2FlagEndHeaders) continuing_ = 0;
      if ((s = Find(f.stream_id, &i)) == nullptr || !s->ending) return true;
      s->trailers.append(f.payload.data(), f.payload.size());
      if (f.flags & kH2FlagEndHeaders) End(i, done);
      return true;
    case kH2RstStream:
      if (f.stream_id == 0 || f.payload.size() != 4) return false;
      if (Find(f.stream_id, &i) != nullptr) Drop(i, "h2:RST_STREAM", done);
      return true;
    case kH2Settings:
      if (f.stream_id != 0) return false;
      if (f.flags & kH2FlagAck) return f.payload.empty();
      if (!OnSettings(f.payload)) return false;
      AppendH2SettingsAck(&out_);
      return true;
    case kH2Ping:
      if (f.stream_id != 0 || f.payload.size() != 8) return false;
      if ((f.flags & kH2FlagAck) == 0) AppendH2PingAck(f.payload, &out_);
      return true;
    case kH2Goaway: {
      if (f.stream_id != 0 || f.payload.size() < 8) return false;
      const uint32_t last = H2ReadU32(f.payload, 0) & 0x7fffffff;
      going_away_ = true;
      // Backwards: Drop moves the last stream into the dropped one's place.
      for (size_t k = streams_.size(); k-- > 0;) {
        if (streams_[k].id > last) Drop(k, "h2:GOAWAY", done);
      }
      return true;
    }
    case kH2WindowUpdate: {
      if (f.payload.size() != 4) return false;
      const int64_t increment = H2ReadU32(f.payload, 0) & 0x7fffffff;
      if (f.stream_id == 0) {
        conn_window_ += increment;
      } else if ((s = Find(f.stream_id, &i)) != nullptr) {
        s->window += increment;
      }
      return true;
    }
    case kH2PushPromise:
      return false;  // the preface turned push off
    default:
      return true;  // PRIORITY and unknown types
  }
}

bool H2Session::OnSettings(absl::string_view payload) {
  if (!ParseH2Settings(payload, &settings_)) return false;
  for (const auto& [id, value] : settings_) {
    switch (id) {
      case kH2SettingInitialWindowSize: {
        if (value > kH2MaxWindow) return false;
        // Applies to open streams too, by the difference (RFC 9113 6.9.2).
        const int64_t delta = static_cast<int64_t>(value) - initial_window_;
        for (Stream& s : streams_) s.window += delta;
        initial_window_ = value;
        break;
      }
      case kH2SettingMaxConcurrentStreams:
        max_concurrent_ = value;
        break;
      case kH2SettingMaxFrameSize:
        if (value < kH2DefaultMaxFrameSize || value > 0xffffff) return false;
        max_frame_ = value;
        break;
      default:
        break;
    }
  }
  return true;
}

void H2Session::OnData(Stream& s, absl::string_view content) {
  if (s.got_message || s.bad_message != nullptr) return;  // unary: one message
  const bool buffered = !s.data.empty();
  if (buffered) s.data.append(content.data(), content.size());
  const absl::string_view whole = buffered ? absl::string_view(s.data) : content;
  absl::string_view message;
  size_t size = 0;
  switch (ParseGrpcMessage(whole, &message, &size)) {
    case GrpcMessage::kIncomplete:
      if (!buffered) s.data.assign(content.data(), content.size());
      return;
    case GrpcMessage::kComplete:
      s.got_message = true;
      s.has_token = ExchangeResponseHasAccessToken(message);
      break;
    case GrpcMessage::kCompressed:
      s.bad_message = "grpc:compressed";
      break;
    case GrpcMessage::kTooLarge:
      s.bad_message = "grpc:too_large";
      break;
  }
  s.data.clear();
}

void H2Session::End(size_t index, std::vector<H2CallResult>* done) {
  Stream& s = streams_[index];
  int code = 0;
  const bool has_status = ScanGrpcStatus(s.trailers, &code);
  const char* kind = nullptr;
  std::string status_kind;
  if (has_status && code != 0) {
    status_kind = absl::StrCat("grpc:", GrpcCodeName(static_cast<grpc::StatusCode>(code)));
    kind = status_kind.c_str();
  } else if (s.bad_message != nullptr) {
    kind = s.bad_message;
  } else if (!s.got_message) {
    kind = has_status ? "grpc:no_message" : "grpc:error";
  } else if (!s.has_token) {
    kind = "grpc:empty_access_token";
  }
  // The server ended the stream before all of our DATA went: stop sending.
  if (s.sent < s.body.size()) AppendH2RstStream(s.id, 0, &out_);
  Drop(index, kind, done);
}

void H2Session::Drop(size_t index, const char* kind, std::vector<H2CallResult>* done) {
  Stream& s = streams_[index];
  H2CallResult& r = done->emplace_back();
  r.tag = s.tag;
  r.ok = kind == nullptr;
  if (kind != nullptr) r.error_kind = kind;
  if (s.sent < s.body.size()) --sending_;
  if (index + 1 != streams_.size()) s = std::move(streams_.back());
  streams_.pop_back();
}

H2Session::Stream* H2Session::Find(uint32_t id, size_t* index) {
  for (size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].id == id) {
      *index = i;
      return &streams_[i];
    }
  }
  return nullptr;
}

void H2Session::Cancel(int tag) {
  for (size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].tag != tag) continue;
    AppendH2RstStream(streams_[i].id, kH2Cancel, &out_);
    if (streams_[i].sent < streams_[i].body.size()) --sending_;
    if (i + 1 != streams_.size()) streams_[i] = std::move(streams_.back());
    streams_.pop_back();
    return;
  }
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->first == tag) {
      waiting_.erase(it);
      return;
    }
  }
}

void H2Session::Fail(const std::string& kind, std::vector<H2CallResult>* done) {
  for (Stream& s : streams_) done->push_back({s.tag, false, kind});
  streams_.clear();
  sending_ = 0;
  dead_ = true;
}

std::vector<std::pair<int, absl::string_view>> H2Session::TakeUnsent() {
  std::vector<std::pair<int, absl::string_view>> unsent(waiting_.begin(), waiting_.end());
  waiting_.clear();
  return unsent;
}

}  // namespace writ::bench
