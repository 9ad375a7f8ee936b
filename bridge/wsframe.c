/* wsframe: FIN + text opcode, then the 7-bit, 16-bit or 64-bit payload length (network order). */
#include "wsframe.h"

size_t wsframe_text_header(unsigned char *out, size_t len)
{
    out[0] = 0x81;
    if (len < 126) {
        out[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xffff) {
        out[1] = 126;
        out[2] = (unsigned char)(len >> 8);
        out[3] = (unsigned char)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (unsigned char)((unsigned long long)len >> (56 - 8 * i));
    return 10;
}
