# ctest runs each doctest case by name (doctest_discover_tests), and a ';' in a name splits it into two ctest tests
# whose filters match nothing: the case silently never runs. This check fails on any TEST_CASE name holding ';'.
#   cmake -DSOURCE=<tests dir> -P test_names.cmake
file(GLOB_RECURSE _files ${SOURCE}/*.cpp)
set(_bad "")
foreach(f IN LISTS _files)
  file(READ ${f} _text)
  # a name: one or more string literals; a ';' inside any of them
  string(REGEX MATCH "TEST_CASE[A-Z_]*\\([ \t\r\n]*(\"[^\"]*\"[ \t\r\n]*)*\"[^\"]*;" _hit "${_text}")
  if(_hit)
    list(APPEND _bad "${f}")
  endif()
endforeach()
if(_bad)
  string(REPLACE ";" ", " _bad "${_bad}")
  message(FATAL_ERROR "test case names hold ';' (ctest would never run them; write ',' instead): ${_bad}")
endif()
message(STATUS "no test case name holds ';'")
