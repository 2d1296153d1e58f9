# Turns the file IN into a C source OUT defining rn_openapi_yaml[] and its length.
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(LENGTH "${content}" hexlen)
math(EXPR len "${hexlen} / 2")
file(WRITE ${OUT} "#include <stddef.h>\nconst unsigned char rn_openapi_yaml[] = {${bytes}0x00};\nconst size_t rn_openapi_yaml_len = ${len};\n")
