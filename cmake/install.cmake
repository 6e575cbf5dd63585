# Installing libseclabel for C++ launchers: libseclabel.so (every layer,
# whole), the headers under include/seclabel/, a pkg-config file and a CMake
# package configuration.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(seclabel_layers seclabel_core seclabel_xml seclabel_audit seclabel_alloc seclabel_secdriver
    seclabel_cgroup seclabel_process_liveness seclabel_process seclabel_net
    seclabel_fdpass seclabel_policy seclabel_launcher)
add_library(seclabel_shared SHARED ${PROJECT_SOURCE_DIR}/launcher/shared_library.cc)
foreach(layer ${seclabel_layers})
  target_sources(seclabel_shared PRIVATE $<TARGET_OBJECTS:${layer}>)
endforeach()
set_target_properties(seclabel_shared PROPERTIES OUTPUT_NAME seclabel
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
target_link_libraries(seclabel_shared PRIVATE
  PkgConfig::PUGIXML PkgConfig::SELINUX PkgConfig::CAPNG PkgConfig::AUDIT
  PkgConfig::SQLITE PkgConfig::UUID PkgConfig::CURL nlohmann_json::nlohmann_json
  ${SECLABEL_SEPOL_STATIC})
target_link_options(seclabel_shared PRIVATE -Wl,--no-undefined)
install(TARGETS seclabel_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# The layers' headers keep their folder (code includes "xml/xml.h"), under
# include/seclabel/, plus the umbrella <seclabel/seclabel.h>.
foreach(layer core xml audit alloc secdriver cgroup process net fdpass policy launcher)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/seclabel/${layer}
          FILES_MATCHING PATTERN "*.h")
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/include/seclabel/seclabel.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/seclabel/seclabel)

configure_file(${PROJECT_SOURCE_DIR}/cmake/seclabel.pc.in ${PROJECT_BINARY_DIR}/seclabel.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/seclabel.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/seclabel)
file(RELATIVE_PATH RELATIVE_PREFIX /prefix/${config_dir} /prefix)
configure_file(${PROJECT_SOURCE_DIR}/cmake/seclabelConfig.cmake.in
               ${PROJECT_BINARY_DIR}/seclabelConfig.cmake @ONLY)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/seclabelConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/seclabelConfig.cmake
              ${PROJECT_BINARY_DIR}/seclabelConfigVersion.cmake
        DESTINATION ${config_dir})
