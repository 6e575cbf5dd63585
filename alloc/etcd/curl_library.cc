#include "alloc/etcd/curl_library.h"

#include <dlfcn.h>

#include <atomic>
#include <mutex>
#include <string>

#include "core/error.h"

namespace seclabel::etcd {
namespace {

std::atomic<bool> loaded{false};

template <typename F>
void resolve(void* handle, F& slot, const char* name) {
  void* symbol = dlsym(handle, name);
  if (!symbol)
    throw Error(ExitCode::Failed, std::string("cannot use libcurl.so.4: it has no ") + name);
  slot = reinterpret_cast<F>(symbol);
}

CurlLibrary load() {
  // RTLD_LOCAL: its symbols serve this table only. The handle is never
  // closed: libcurl keeps global state until the process ends.
  void* handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw Error(ExitCode::Failed,
                std::string("cannot load libcurl.so.4, needed by [store] backend = \"etcd\": ") +
                    (why ? why : "unknown error"));
  }
  CurlLibrary curl{};
  resolve(handle, curl.global_init, "curl_global_init");
  resolve(handle, curl.easy_init, "curl_easy_init");
  resolve(handle, curl.easy_setopt, "curl_easy_setopt");
  resolve(handle, curl.easy_perform, "curl_easy_perform");
  resolve(handle, curl.easy_getinfo, "curl_easy_getinfo");
  resolve(handle, curl.easy_cleanup, "curl_easy_cleanup");
  resolve(handle, curl.easy_strerror, "curl_easy_strerror");
  resolve(handle, curl.slist_append, "curl_slist_append");
  resolve(handle, curl.slist_free_all, "curl_slist_free_all");
  // curl_global_init is not safe to race with itself: it runs here, once.
  CURLcode status = curl.global_init(CURL_GLOBAL_DEFAULT);
  if (status != CURLE_OK)
    throw Error(ExitCode::Failed,
                std::string("cannot initialise libcurl: ") + curl.easy_strerror(status));
  return curl;
}

}  // namespace

const CurlLibrary& curlLibrary() {
  static std::mutex mutex;
  static CurlLibrary table{};
  std::lock_guard lock(mutex);
  if (!loaded.load()) {
    table = load();
    loaded.store(true);
  }
  return table;
}

bool curlLibraryLoaded() { return loaded.load(); }

}  // namespace seclabel::etcd
