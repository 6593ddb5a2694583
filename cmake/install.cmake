# cmake --install: the a2i2a program, its bash and zsh completions and man page, liba2i2a
# (shared and static), a2i2a.h, a2i2a.pc for pkg-config and the CMake package (find_package(a2i2a) → the imported target a2i2a::a2i2a, the
# shared library). Everything installed finds the rest relative to itself, so
# `cmake --install build --prefix DIR` works for any DIR.
include(CMakePackageConfigHelpers)

install(TARGETS a2i2a_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS a2i2a ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS a2i2a_shared EXPORT a2i2a-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES include/a2i2a.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/a2i2a OPTIONAL)

# The bash and zsh completions and the man page, written by the program from its option tables
# at build time (cmake/generate.cmake), where bash-completion, zsh and man look for them.
set(A2I2A_SHELL_FILES ${CMAKE_CURRENT_BINARY_DIR}/a2i2a.bash ${CMAKE_CURRENT_BINARY_DIR}/_a2i2a
  ${CMAKE_CURRENT_BINARY_DIR}/a2i2a.1)
add_custom_command(OUTPUT ${A2I2A_SHELL_FILES}
  COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:a2i2a_cli> -DOUTDIR=${CMAKE_CURRENT_BINARY_DIR}
    -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/generate.cmake
  DEPENDS a2i2a_cli ${CMAKE_CURRENT_SOURCE_DIR}/cmake/generate.cmake
  COMMENT "Writing the completions and the man page" VERBATIM)
add_custom_target(a2i2a_shell_files ALL DEPENDS ${A2I2A_SHELL_FILES})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/a2i2a.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME a2i2a)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/_a2i2a DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/a2i2a.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# pkg-config. Libs.private: what linking the static library needs, i.e. the Debian packages'
# own link flags (as pkg_check_modules found them), OpenBLAS's OpenMP build, OpenMP and libm.
# Not Requires.private: `pkg-config --static` would then also want the packages' private
# dependencies (libsndfile's mp3lame, libcurl's gssapi…), static archives Debian does not ship.
set(A2I2A_PC_LIBS_PRIVATE "")
foreach(flag ${DEPS_LDFLAGS})
  string(REGEX REPLACE "^-L" "" _dir "${flag}")
  if(NOT _dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
    string(APPEND A2I2A_PC_LIBS_PRIVATE "${flag} ")
  endif()
endforeach()
get_filename_component(_openblas_dir "${OPENBLAS_LIB}" DIRECTORY)
string(APPEND A2I2A_PC_LIBS_PRIVATE "-L${_openblas_dir} -lopenblas ${OpenMP_C_FLAGS} -lm")
# prefix relative to the .pc file's folder (${pcfiledir}), wherever the install put it
file(RELATIVE_PATH A2I2A_PC_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" A2I2A_PC_PREFIX "${A2I2A_PC_PREFIX}")
configure_file(cmake/a2i2a.pc.in a2i2a.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/a2i2a.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake package: a2i2a-config.cmake, its version file and the exported target.
set(A2I2A_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/a2i2a)
install(EXPORT a2i2a-targets NAMESPACE a2i2a:: DESTINATION ${A2I2A_CMAKE_DIR})
configure_package_config_file(cmake/a2i2a-config.cmake.in a2i2a-config.cmake
  INSTALL_DESTINATION ${A2I2A_CMAKE_DIR})
# While the major version is 0 a minor version may break the ABI, so only the same minor matches.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_compatibility SameMinorVersion)
else()
  set(_compatibility SameMajorVersion)
endif()
write_basic_package_version_file(a2i2a-config-version.cmake COMPATIBILITY ${_compatibility})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/a2i2a-config.cmake ${CMAKE_CURRENT_BINARY_DIR}/a2i2a-config-version.cmake
  DESTINATION ${A2I2A_CMAKE_DIR})
