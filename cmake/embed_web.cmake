# Build-time step: every file of the studio's page (DIR) into one C file (OUT) as byte arrays,
# so that `a2i2a serve` needs nothing but its own binary. Run with cmake -P.
file(GLOB files RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(arrays "")
set(table "")
set(n 0)
foreach(name ${files})
  file(READ "${DIR}/${name}" hex HEX)
  string(LENGTH "${hex}" len)
  math(EXPR size "${len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # lines of 16 bytes keep the file readable by editors (CMake's regex has no {n})
  string(REPEAT "0x..," 16 line)
  string(REGEX REPLACE "(${line})" "\\1\n" bytes "${bytes}")
  string(APPEND arrays "static const unsigned char asset${n}[] = {\n${bytes}0};\n")
  string(APPEND table "    {\"/${name}\", asset${n}, ${size}},\n")
  math(EXPR n "${n} + 1")
endforeach()
file(WRITE "${OUT}.tmp" "/* Generated from src/studio/web by cmake/embed_web.cmake: do not edit. */\n"
  "#include \"studio/studio.h\"\n\n${arrays}\nconst studio_asset studio_assets[] = {\n${table}};\n"
  "const int studio_nassets = ${n};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
