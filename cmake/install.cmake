# Installing libseclabel for C++ launchers: libseclabel.so (every layer,
# compiled hidden: it exports the SECLABEL_API declarations only), the
# public header <seclabel/seclabel.h> with the headers it includes, a
# pkg-config file and a CMake package (find_package(seclabel) gives the
# imported target seclabel::seclabel).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(seclabel_layers seclabel_core seclabel_xml seclabel_audit seclabel_alloc seclabel_secdriver
    seclabel_cgroup seclabel_process seclabel_net
    seclabel_fdpass seclabel_policy seclabel_launcher)
add_library(seclabel_shared SHARED ${PROJECT_SOURCE_DIR}/launcher/shared_library.cc)
foreach(layer ${seclabel_layers})
  target_sources(seclabel_shared PRIVATE $<TARGET_OBJECTS:${layer}>)
endforeach()
set_target_properties(seclabel_shared PROPERTIES OUTPUT_NAME seclabel EXPORT_NAME seclabel
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
target_link_libraries(seclabel_shared PRIVATE
  PkgConfig::PUGIXML PkgConfig::SELINUX PkgConfig::CAPNG PkgConfig::AUDIT
  PkgConfig::SQLITE PkgConfig::UUID nlohmann_json::nlohmann_json
  ${SECLABEL_SEPOL_STATIC})
# Nothing of the static archives linked in (libsepol's policydb API, pugixml)
# is exported: a launcher that links its own copy gets its own.
target_link_options(seclabel_shared PRIVATE -Wl,--no-undefined -Wl,--exclude-libs,ALL)
# What a consumer of the installed package gets: the header root and C++20
# (at least: a consumer may build with a later standard).
target_include_directories(seclabel_shared INTERFACE
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/seclabel>)
target_compile_features(seclabel_shared INTERFACE cxx_std_20)
install(TARGETS seclabel_shared EXPORT seclabelTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# The public header and the headers it includes, found by following its
# #include "..." lines: they keep their folder (the code includes
# "xml/xml.h"), under include/seclabel/. No other header is installed.
function(seclabel_header_closure out)
  set(pending include/seclabel/seclabel.h)
  set(seen)
  while(pending)
    list(POP_FRONT pending header)
    if(header IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${header})
    set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
      ${PROJECT_SOURCE_DIR}/${header})
    file(STRINGS ${PROJECT_SOURCE_DIR}/${header} lines REGEX "^#include \"[^\"]+\"")
    foreach(line ${lines})
      string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" included "${line}")
      if(EXISTS ${PROJECT_SOURCE_DIR}/${included})
        list(APPEND pending ${included})
      endif()
    endforeach()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()
seclabel_header_closure(seclabel_public_headers)
foreach(header ${seclabel_public_headers})
  if(header STREQUAL "include/seclabel/seclabel.h")
    set(destination ${CMAKE_INSTALL_INCLUDEDIR}/seclabel/seclabel)
  else()
    get_filename_component(folder ${header} DIRECTORY)
    set(destination ${CMAKE_INSTALL_INCLUDEDIR}/seclabel/${folder})
  endif()
  install(FILES ${PROJECT_SOURCE_DIR}/${header} DESTINATION ${destination})
endforeach()

configure_file(${PROJECT_SOURCE_DIR}/cmake/seclabel.pc.in ${PROJECT_BINARY_DIR}/seclabel.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/seclabel.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/seclabel)
install(EXPORT seclabelTargets NAMESPACE seclabel:: DESTINATION ${config_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/seclabelConfig.cmake.in
  ${PROJECT_BINARY_DIR}/seclabelConfig.cmake INSTALL_DESTINATION ${config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/seclabelConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/seclabelConfig.cmake
              ${PROJECT_BINARY_DIR}/seclabelConfigVersion.cmake
        DESTINATION ${config_dir})
