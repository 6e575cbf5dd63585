// libseclabel.so is linked from every layer's static library, whole; CMake
// wants at least one source of its own for it. This is it.
