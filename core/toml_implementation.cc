// toml++'s implementation, compiled once into seclabel (TOML_HEADER_ONLY=0
// everywhere, TOML_IMPLEMENTATION here) instead of loading
// libtomlplusplus.so at every start.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
