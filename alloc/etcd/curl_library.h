// libcurl, loaded when the first etcd endpoint is set up, not at process start.
//
// Linking libcurl makes the dynamic loader map and relocate it and the
// libraries it needs (OpenSSL, nghttp2, libssh2, LDAP, Kerberos, ...) in
// every seclabel process, about 10 ms, although only a host with
// [store] backend = "etcd" ever makes an HTTP request. So nothing links it:
// the etcd client reaches libcurl through this table, filled by dlopen the
// first time it is needed. The headers are libcurl's own, so the types and
// option numbers are checked by the compiler as usual.
#pragma once

#include <curl/curl.h>

namespace seclabel::etcd {

struct CurlLibrary {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL* curl, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* curl);
  CURLcode (*easy_getinfo)(CURL* curl, CURLINFO info, ...);
  void (*easy_cleanup)(CURL* curl);
  const char* (*easy_strerror)(CURLcode code);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
};

// Loads libcurl.so.4 once per process (thread safe) and returns its table,
// with curl_global_init already called. Throws Error(Failed) naming what is
// missing when libcurl cannot be loaded.
const CurlLibrary& curlLibrary();

// Whether this process has loaded libcurl (tests: the SQLite backend never does).
bool curlLibraryLoaded();

}  // namespace seclabel::etcd
