/* WebSocket frame headers for the three payload length encodings and their boundaries. */
#include "check.h"
#include "wsframe.h"

static int same(const unsigned char *a, const unsigned char *b, size_t n) { return memcmp(a, b, n) == 0; }

int main(void)
{
    unsigned char h[WSFRAME_MAX_HEADER];
    CHECK(wsframe_text_header(h, 0) == 2 && same(h, (const unsigned char[]){0x81, 0}, 2), "empty payload: 2 bytes");
    CHECK(wsframe_text_header(h, 125) == 2 && h[1] == 125, "125: the largest 7-bit length");
    CHECK(wsframe_text_header(h, 126) == 4 && same(h, (const unsigned char[]){0x81, 126, 0, 126}, 4),
          "126: a 16-bit length");
    CHECK(wsframe_text_header(h, 65535) == 4 && same(h, (const unsigned char[]){0x81, 126, 0xff, 0xff}, 4),
          "65535: the largest 16-bit length");
    CHECK(wsframe_text_header(h, 65536) == 10 &&
              same(h, (const unsigned char[]){0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}, 10),
          "65536: a 64-bit length, network order");
    CHECK(h[0] == 0x81, "FIN and the text opcode, never a mask bit");
    return check_done();
}
