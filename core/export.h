// SECLABEL_API marks what libseclabel.so exports: the public API that
// <seclabel/seclabel.h> declares. Everything else is built with
// -fvisibility=hidden and stays inside the library, so a launcher cannot
// come to depend on an internal function, and the library is free to change
// one (docs/architecture.md, "The library boundary"). The static layer
// libraries the executable and the tests link see the same attribute; it
// changes nothing there.
#pragma once

#define SECLABEL_API __attribute__((visibility("default")))
