#include "alloc/etcd/http_endpoint.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include <curl/curl.h>

#include "alloc/etcd/curl_library.h"

#include "core/error.h"

namespace seclabel::etcd {
namespace {

// libcurl is loaded (and initialised) on first use: curl_library.h.
void initCurlOnce() { curlLibrary(); }

// The request body as libcurl pulls it, and whether it has pulled any of it.
struct Upload {
  std::string_view body;
  size_t offset = 0;
  bool handed = false;
};

size_t readBody(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->body.size() - upload->offset);
  std::memcpy(buffer, upload->body.data() + upload->offset, n);
  upload->offset += n;
  if (n > 0) upload->handed = true;
  return n;
}

// libcurl rewinds the body to send it again on a fresh connection when a
// reused connection turns out dead. Once a byte was handed over, the server
// may hold the whole request and may have acted on it: sending it again would
// be a blind retry of a transaction, so it is refused and reported.
int seekBody(void* user, curl_off_t offset, int origin) {
  auto* upload = static_cast<Upload*>(user);
  if (upload->handed || offset != 0 || origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  upload->offset = 0;
  return CURL_SEEKFUNC_OK;
}

struct Download {
  std::string* body;
  size_t limit;
  bool tooLarge = false;
};

size_t writeBody(char* data, size_t size, size_t count, void* user) {
  auto* download = static_cast<Download*>(user);
  size_t n = size * count;
  if (download->body->size() + n > download->limit) {
    download->tooLarge = true;
    return 0;  // libcurl aborts the transfer (and drops the connection)
  }
  download->body->append(data, n);
  return n;
}

template <typename T>
void setOption(CURL* curl, CURLoption option, T value, const char* name) {
  CURLcode status = curlLibrary().easy_setopt(curl, option, value);
  if (status != CURLE_OK)
    throw Error(ExitCode::Failed, std::string("cannot set libcurl option ") + name + ": " +
                                      curlLibrary().easy_strerror(status));
}

long milliseconds(std::chrono::milliseconds ms) { return std::max<long>(1, long(ms.count())); }

}  // namespace

HttpEndpoint::HttpEndpoint(std::string baseUrl, const TlsFiles& tls, size_t maxReplyBytes)
    : baseUrl_(std::move(baseUrl)), maxReplyBytes_(maxReplyBytes) {
  while (!baseUrl_.empty() && baseUrl_.back() == '/') baseUrl_.pop_back();
  initCurlOnce();
  CURL* curl = curlLibrary().easy_init();
  if (!curl) throw Error(ExitCode::Failed, "cannot create a libcurl handle for " + baseUrl_);
  curl_ = curl;
  headers_ = curlLibrary().slist_append(nullptr, "Content-Type: application/json");
  // No "Expect: 100-continue" round trip before a body.
  if (headers_) headers_ = curlLibrary().slist_append(headers_, "Expect:");
  if (!headers_) throw Error(ExitCode::Failed, "cannot allocate HTTP headers for " + baseUrl_);
  setOption(curl, CURLOPT_HTTPHEADER, headers_, "HTTPHEADER");
  setOption(curl, CURLOPT_NOSIGNAL, 1L, "NOSIGNAL");
  setOption(curl, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1), "HTTP_VERSION");
  setOption(curl, CURLOPT_PROTOCOLS_STR, "http,https", "PROTOCOLS_STR");
  setOption(curl, CURLOPT_FOLLOWLOCATION, 0L, "FOLLOWLOCATION");
  // Never through a proxy named in the environment (http_proxy, ...): the
  // cluster's traffic goes to the endpoints the configuration names.
  setOption(curl, CURLOPT_PROXY, "", "PROXY");
  setOption(curl, CURLOPT_TCP_NODELAY, 1L, "TCP_NODELAY");
  setOption(curl, CURLOPT_POST, 1L, "POST");
  setOption(curl, CURLOPT_READFUNCTION, &readBody, "READFUNCTION");
  setOption(curl, CURLOPT_SEEKFUNCTION, &seekBody, "SEEKFUNCTION");
  setOption(curl, CURLOPT_WRITEFUNCTION, &writeBody, "WRITEFUNCTION");
  // A declared length over the limit fails before any of the body is read.
  setOption(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxReplyBytes_), "MAXFILESIZE_LARGE");
  if (!tls.caCert.empty()) setOption(curl, CURLOPT_CAINFO, tls.caCert.c_str(), "CAINFO");
  if (!tls.cert.empty()) setOption(curl, CURLOPT_SSLCERT, tls.cert.c_str(), "SSLCERT");
  if (!tls.key.empty()) setOption(curl, CURLOPT_SSLKEY, tls.key.c_str(), "SSLKEY");
}

HttpEndpoint::~HttpEndpoint() {
  if (curl_) curlLibrary().easy_cleanup(static_cast<CURL*>(curl_));
  curlLibrary().slist_free_all(headers_);
}

HttpExchange HttpEndpoint::post(std::string_view path, std::string_view body,
                                std::chrono::milliseconds total,
                                std::chrono::milliseconds connect) {
  CURL* curl = static_cast<CURL*>(curl_);
  HttpExchange exchange;
  Upload upload{body};
  Download download{&exchange.body, maxReplyBytes_};
  char errorText[CURL_ERROR_SIZE] = "";
  std::string url = baseUrl_ + std::string(path);
  setOption(curl, CURLOPT_URL, url.c_str(), "URL");
  setOption(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()), "POSTFIELDSIZE_LARGE");
  setOption(curl, CURLOPT_READDATA, &upload, "READDATA");
  setOption(curl, CURLOPT_SEEKDATA, &upload, "SEEKDATA");
  setOption(curl, CURLOPT_WRITEDATA, &download, "WRITEDATA");
  setOption(curl, CURLOPT_ERRORBUFFER, errorText, "ERRORBUFFER");
  setOption(curl, CURLOPT_TIMEOUT_MS, milliseconds(total), "TIMEOUT_MS");
  setOption(curl, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(std::min(connect, total)),
            "CONNECTTIMEOUT_MS");

  CURLcode status = curlLibrary().easy_perform(curl);
  // The buffers above die with this call: libcurl must not keep pointers to them.
  curlLibrary().easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curlLibrary().easy_setopt(curl, CURLOPT_READDATA, nullptr);
  curlLibrary().easy_setopt(curl, CURLOPT_SEEKDATA, nullptr);
  curlLibrary().easy_setopt(curl, CURLOPT_WRITEDATA, nullptr);

  exchange.delivery = upload.handed ? Delivery::MaybeSent : Delivery::NotSent;
  if (status == CURLE_OK) {
    exchange.outcome = HttpExchange::Outcome::Answered;
    curlLibrary().easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &exchange.status);
    return exchange;
  }
  exchange.body.clear();
  exchange.body.shrink_to_fit();
  exchange.detail = errorText[0] ? errorText : curlLibrary().easy_strerror(status);
  if (download.tooLarge || status == CURLE_FILESIZE_EXCEEDED) {
    exchange.outcome = HttpExchange::Outcome::TooLarge;
    exchange.detail = "reply larger than " + std::to_string(maxReplyBytes_) + " bytes";
  } else if (status == CURLE_OPERATION_TIMEDOUT) {
    exchange.outcome = HttpExchange::Outcome::TimedOut;
  } else if (!upload.handed &&
             (status == CURLE_PEER_FAILED_VERIFICATION || status == CURLE_SSL_CERTPROBLEM ||
              status == CURLE_SSL_CACERT_BADFILE || status == CURLE_SSL_CIPHER ||
              status == CURLE_SSL_ISSUER_ERROR || status == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
              status == CURLE_SSL_CRL_BADFILE)) {
    exchange.outcome = HttpExchange::Outcome::TlsRefused;
  } else if (!upload.handed &&
             (status == CURLE_COULDNT_CONNECT || status == CURLE_COULDNT_RESOLVE_HOST ||
              status == CURLE_SSL_CONNECT_ERROR)) {
    exchange.outcome = HttpExchange::Outcome::ConnectFailed;
  } else {
    exchange.outcome = HttpExchange::Outcome::Lost;
  }
  return exchange;
}

}  // namespace seclabel::etcd
