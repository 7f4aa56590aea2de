/* client/mediaio_pattern.c: the numbered test pattern and its reader.
 *
 * The top band of the picture is a bar code of square blocks, black
 * (Y=16) for 0 and white (Y=235) for 1, neutral chroma, row-major from
 * the top-left corner.  It carries 120 bits, most significant first: a
 * magic byte, the frame number (32 bits), the send time (64 bits) and a
 * CRC-16/CCITT-FALSE of those 13 bytes.  Blocks are at least 8 pixels
 * square and sit on the 8-pixel grid (16 pixels, one VP8 macroblock, at
 * 640 wide), so even a coarse quantizer keeps each block's mean far from
 * the threshold; the reader averages the central quarter of each block
 * and compares with mid-grey.
 *
 * Under the band the picture moves every frame so the encoder has real
 * work: two drifting triangle-wave gradients, expanding rings (a zone
 * plate), a bouncing box, a fixed checkerboard, and the frame number in
 * large digits.  Everything is
 * integer arithmetic on (x, y, frame), so the sender and a receiver that
 * redraws the reference from the number it read get identical pixels.
 * Pure functions; any thread.
 */
#include "client/mediaio.h"
#include "common/err.h"

#include <string.h>

#define CODE_BITS 120
#define CODE_MAGIC 0xa7
#define Y_BLACK 16
#define Y_WHITE 235

static int block_size(int width)
{
	int b = (width / 40) & ~7;

	return b < 8 ? 8 : b;
}

int pl_pattern_code_height(int width)
{
	int b = block_size(width), cols = width / b;

	if (cols < 8)
		return 0;
	return (CODE_BITS + cols - 1) / cols * b;
}

static bool fits(const struct pl_i420 *img)
{
	int h = pl_pattern_code_height(img->width);

	return h > 0 && img->width >= 64 && img->height >= 2 * h;
}

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xffff;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

static void pack(uint8_t bytes[15], uint32_t frame_no, uint64_t t)
{
	uint16_t crc;

	bytes[0] = CODE_MAGIC;
	for (int i = 0; i < 4; i++)
		bytes[1 + i] = (uint8_t)(frame_no >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		bytes[5 + i] = (uint8_t)(t >> (56 - 8 * i));
	crc = crc16(bytes, 13);
	bytes[13] = (uint8_t)(crc >> 8), bytes[14] = (uint8_t)crc;
}

static int tri(int p)                  /* triangle wave, period 512, 0..256 */
{
	p &= 511;
	return p < 256 ? p : 512 - p;
}

static int bounce(int p, int range)    /* 0..range and back */
{
	if (range <= 0)
		return 0;
	p %= 2 * range;
	return p < range ? p : 2 * range - p;
}

static void fill_rect(struct pl_i420 *img, int x0, int y0, int w, int h, int yv, int uv, int vv)
{
	int x1 = x0 + w > img->width ? img->width : x0 + w;
	int y1 = y0 + h > img->height ? img->height : y0 + h;

	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	if (x0 >= x1 || y0 >= y1)
		return;
	for (int y = y0; y < y1; y++)
		memset(img->plane[0] + (size_t)y * img->stride[0] + x0, yv, (size_t)(x1 - x0));
	for (int y = y0 / 2; y < (y1 + 1) / 2; y++) {
		memset(img->plane[1] + (size_t)y * img->stride[1] + x0 / 2, uv, (size_t)((x1 + 1) / 2 - x0 / 2));
		memset(img->plane[2] + (size_t)y * img->stride[2] + x0 / 2, vv, (size_t)((x1 + 1) / 2 - x0 / 2));
	}
}

static void draw_background(struct pl_i420 *img, int top, uint32_t f)
{
	int fi = (int)(f & 0xffffff);       /* keep the arithmetic in range */
	int cw = pl_i420_plane_width(img, 1), ch = pl_i420_plane_height(img, 1);

	for (int y = top; y < img->height; y++) {
		uint8_t *row = img->plane[0] + (size_t)y * img->stride[0];
		int gy = tri(3 * y + 2 * fi);
		for (int x = 0; x < img->width; x++)
			row[x] = (uint8_t)(48 + (tri(2 * x + 4 * fi) + gy) / 4);
	}
	for (int y = top / 2; y < ch; y++) {
		uint8_t *u = img->plane[1] + (size_t)y * img->stride[1];
		uint8_t *v = img->plane[2] + (size_t)y * img->stride[2];
		int vy = 128 + (tri(6 * y + 2 * fi) - 128) / 4;
		for (int x = 0; x < cw; x++) {
			u[x] = (uint8_t)(128 + (tri(4 * x + fi) - 128) / 4);
			v[x] = (uint8_t)vy;
		}
	}
}

/* Expanding rings centred on the region's top-left corner: the change
 * from frame to frame is no translation, so unlike the gradients and the
 * box it cannot be predicted by motion vectors and costs real bits, like
 * the moving texture of a camera picture does. */
static void draw_zone_plate(struct pl_i420 *img, int b, uint32_t f)
{
	int x0 = b, y0 = img->height - 6 * b, w = 8 * b, h = 6 * b;
	int k = img->width / 80 > 1 ? img->width / 80 : 1;   /* ring scale */
	int phase = (int)(f & 0xffff) * 16;

	if (y0 < pl_pattern_code_height(img->width) + 5 * b)
		return;                         /* no room under the digits */
	for (int y = y0; y < y0 + h && y < img->height; y++) {
		uint8_t *row = img->plane[0] + (size_t)y * img->stride[0];
		int dy = y - y0;
		for (int x = x0; x < x0 + w && x < img->width; x++) {
			int dx = x - x0;
			row[x] = (uint8_t)(64 + tri((dx * dx + dy * dy) / k - phase) / 2);
		}
	}
}

/* 3x5 digits, one row per 3-bit group, top row in the high bits. */
static const uint16_t font3x5[10] = {
	0x7b6f, 0x2492, 0x73e7, 0x73cf, 0x5bc9, 0x79cf, 0x79ef, 0x7249, 0x7bef, 0x7bcf,
};

static void draw_number(struct pl_i420 *img, int x0, int y0, int cell, uint32_t n)
{
	char digits[11];
	int nd = 0;

	do {
		digits[nd++] = (char)(n % 10);
		n /= 10;
	} while (n);
	fill_rect(img, x0 - cell, y0 - cell, (nd * 4 + 1) * cell, 7 * cell, Y_BLACK, 128, 128);
	for (int i = 0; i < nd; i++) {
		uint16_t g = font3x5[(int)digits[nd - 1 - i]];
		for (int r = 0; r < 5; r++)
			for (int c = 0; c < 3; c++)
				if (g & (1u << (14 - 3 * r - c)))
					fill_rect(img, x0 + (i * 4 + c) * cell, y0 + r * cell, cell, cell,
					          Y_WHITE, 128, 128);
	}
}

static void draw_code(struct pl_i420 *img, const uint8_t bytes[15])
{
	int b = block_size(img->width), cols = img->width / b;
	int h = pl_pattern_code_height(img->width);

	fill_rect(img, 0, 0, img->width, h, Y_BLACK, 128, 128);
	for (int i = 0; i < (h / b) * cols; i++) {
		/* Cells past the 120 bits alternate, which keeps the band's
		 * texture uniform for the encoder. */
		bool one = i < CODE_BITS ? (bytes[i / 8] >> (7 - i % 8)) & 1 : (i & 1);
		if (one)
			fill_rect(img, (i % cols) * b, (i / cols) * b, b, b, Y_WHITE, 128, 128);
	}
}

int pl_pattern_draw(struct pl_i420 *img, uint32_t frame_no, uint64_t send_time)
{
	uint8_t bytes[15];
	int b, top, box;

	if (!fits(img))
		return PL_EINVAL;
	b = block_size(img->width);
	top = pl_pattern_code_height(img->width);
	draw_background(img, top, frame_no);
	/* A fixed checkerboard of 8-pixel squares at the bottom right. */
	for (int y = img->height - 4 * b; y + 8 <= img->height; y += 8)
		for (int x = img->width - 8 * b; x + 8 <= img->width; x += 8)
			if (y >= top + 8 * b && (((x + y) / 8) & 1))
				fill_rect(img, x, y, 8, 8, 200, 128, 128);
	draw_zone_plate(img, b, frame_no);
	box = 4 * b;
	fill_rect(img, bounce((int)(frame_no % 100000) * 6, img->width - box),
	          top + bounce((int)(frame_no % 100000) * 4, img->height - top - box), box, box,
	          210, 80, 190);
	if (img->height - top >= 9 * (b / 2) + b)
		draw_number(img, b, top + b, b / 2, frame_no);
	pack(bytes, frame_no, send_time);
	draw_code(img, bytes);
	return 0;
}

int pl_pattern_read(const struct pl_i420 *img, uint32_t *frame_no, uint64_t *send_time)
{
	uint8_t bytes[15] = { 0 };
	int b, cols, q;

	*frame_no = 0, *send_time = 0;
	if (!fits(img))
		return PL_EINVAL;
	b = block_size(img->width);
	cols = img->width / b;
	q = b / 4;                          /* the central half of each side */
	for (int i = 0; i < CODE_BITS; i++) {
		int x0 = (i % cols) * b + q, y0 = (i / cols) * b + q;
		unsigned sum = 0;
		for (int y = y0; y < y0 + b / 2; y++)
			for (int x = x0; x < x0 + b / 2; x++)
				sum += img->plane[0][(size_t)y * img->stride[0] + x];
		if (sum > (unsigned)(b / 2) * (unsigned)(b / 2) * (Y_BLACK + Y_WHITE) / 2)
			bytes[i / 8] |= (uint8_t)(1u << (7 - i % 8));
	}
	if (bytes[0] != CODE_MAGIC || crc16(bytes, 13) != ((bytes[13] << 8) | bytes[14]))
		return PL_EPROTO;
	for (int i = 0; i < 4; i++)
		*frame_no = (*frame_no << 8) | bytes[1 + i];
	for (int i = 0; i < 8; i++)
		*send_time = (*send_time << 8) | bytes[5 + i];
	return 0;
}
