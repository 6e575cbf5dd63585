# cmake -DCTEST=... -DBUILD_DIR=... -P ctest_labels_check.cmake
# Every label of a test with several survives discovery: tests labelled
# "root;tools;e2e" are found by each of them, not only by the first.
foreach(label e2e launcher tools unit root)
  execute_process(COMMAND ${CTEST} -N -L "^${label}$"
    WORKING_DIRECTORY ${BUILD_DIR} OUTPUT_VARIABLE out RESULT_VARIABLE status)
  string(REGEX MATCH "Total Tests: ([0-9]+)" _ "${out}")
  if(NOT status EQUAL 0 OR NOT CMAKE_MATCH_1 OR CMAKE_MATCH_1 EQUAL 0)
    message(FATAL_ERROR "ctest -L ^${label}$ finds no test: a label was lost in discovery")
  endif()
  message(STATUS "label ${label}: ${CMAKE_MATCH_1} tests")
endforeach()
