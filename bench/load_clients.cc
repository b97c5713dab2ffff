#include "bench/load_clients.h"

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::bench {

const char* GrpcCodeName(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "OTHER";
  }
}

std::shared_ptr<grpc::Channel> NewLoadChannel(int port, int index) {
  grpc::ChannelArguments args;
  // Distinct arguments and a local subchannel pool: a connection per channel.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("writ.bench.channel", index);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

namespace {

class GrpcClient final : public ExchangeClient {
 public:
  GrpcClient(std::shared_ptr<grpc::Channel> channel, const ExchangeRequestShape& shape)
      : stub_(v1::TokenService::NewStub(channel)) {
    request_.set_subject_token_type("urn:ietf:params:oauth:token-type:jwt");
    request_.set_audience(shape.audience);
    request_.add_scopes(shape.scope);
  }

  bool Exchange(const std::string& subject_token, std::string* error_kind) override {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    request_.set_subject_token(subject_token);
    response_.Clear();
    grpc::Status s = stub_->ExchangeToken(&ctx, request_, &response_);
    if (!s.ok()) {
      *error_kind = absl::StrCat("grpc:", GrpcCodeName(s.error_code()));
      return false;
    }
    if (response_.access_token().empty()) {
      *error_kind = "grpc:empty_access_token";
      return false;
    }
    return true;
  }

 private:
  std::unique_ptr<v1::TokenService::Stub> stub_;
  v1::ExchangeTokenRequest request_;
  v1::ExchangeTokenResponse response_;
};

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

class HttpClient final : public ExchangeClient {
 public:
  HttpClient(int port, const ExchangeRequestShape& shape) : curl_(curl_easy_init()) {
    if (curl_ == nullptr) std::abort();
    url_ = absl::StrCat("http://127.0.0.1:", port, "/oauth2/token");
    // Tokens are base64url and dots: nothing in them needs form-escaping.
    prefix_ =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
        "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt&subject_token=";
    char* aud = curl_easy_escape(curl_, shape.audience.data(), shape.audience.size());
    char* scope = curl_easy_escape(curl_, shape.scope.data(), shape.scope.size());
    suffix_ = absl::StrCat("&audience=", aud, "&scope=", scope);
    curl_free(aud);
    curl_free(scope);
    headers_ = curl_slist_append(headers_, "Content-Type: application/x-www-form-urlencoded");
    // libcurl 7.88 sends "Expect: 100-continue" for bodies over 1 KiB, which
    // costs a round trip per request; the token bodies are ~1.1 KiB.
    headers_ = curl_slist_append(headers_, "Expect:");
    curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &AppendBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response_);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
  }
  ~HttpClient() override {
    curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }

  bool Exchange(const std::string& subject_token, std::string* error_kind) override {
    body_.assign(prefix_);
    body_.append(subject_token);
    body_.append(suffix_);
    response_.clear();
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body_.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body_.size()));
    CURLcode rc = curl_easy_perform(curl_);
    if (rc != CURLE_OK) {
      *error_kind = absl::StrCat("curl:", curl_easy_strerror(rc));
      return false;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      *error_kind = absl::StrCat("http:", status);
      return false;
    }
    if (!absl::StrContains(response_, "\"access_token\"")) {
      *error_kind = "http:200_without_access_token";
      return false;
    }
    return true;
  }

 private:
  CURL* curl_;
  curl_slist* headers_ = nullptr;
  std::string url_, prefix_, suffix_, body_, response_;
};

}  // namespace

std::vector<std::unique_ptr<ExchangeClient>> MakeGrpcClients(int port, int n,
                                                             int clients_per_channel,
                                                             const ExchangeRequestShape& shape) {
  std::vector<std::unique_ptr<ExchangeClient>> out;
  std::shared_ptr<grpc::Channel> channel;
  for (int i = 0; i < n; ++i) {
    if (i % clients_per_channel == 0) channel = NewLoadChannel(port, i);
    out.push_back(std::make_unique<GrpcClient>(channel, shape));
  }
  return out;
}

std::vector<std::unique_ptr<ExchangeClient>> MakeHttpClients(int port, int n,
                                                             const ExchangeRequestShape& shape) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::vector<std::unique_ptr<ExchangeClient>> out;
  for (int i = 0; i < n; ++i) out.push_back(std::make_unique<HttpClient>(port, shape));
  return out;
}

}  // namespace writ::bench
