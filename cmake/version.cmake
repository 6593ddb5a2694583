# The version is typed once, in include/a2i2a.h (A2I2A_VERSION_MAJOR/MINOR/PATCH); the project,
# the soname, a2i2a.pc and the package version file take it from there.
set(_a2i2a_header "${CMAKE_CURRENT_LIST_DIR}/../include/a2i2a.h")
file(STRINGS "${_a2i2a_header}" _a2i2a_version_lines
     REGEX "^#define A2I2A_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+")
foreach(_part MAJOR MINOR PATCH)
  if(NOT _a2i2a_version_lines MATCHES "A2I2A_VERSION_${_part} +([0-9]+)")
    message(FATAL_ERROR "include/a2i2a.h: no '#define A2I2A_VERSION_${_part} N' line")
  endif()
  set(A2I2A_VERSION_${_part} ${CMAKE_MATCH_1})
endforeach()
set(A2I2A_HEADER_VERSION "${A2I2A_VERSION_MAJOR}.${A2I2A_VERSION_MINOR}.${A2I2A_VERSION_PATCH}")
# Reconfigure when the header's version changes.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_a2i2a_header}")
