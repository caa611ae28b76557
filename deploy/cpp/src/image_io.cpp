#include "image_io.h"

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <jpeglib.h>
#include <png.h>

namespace loupe {

namespace {

struct FileCloser {
    void operator()(std::FILE* file) const {
        if (file) std::fclose(file);
    }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

Image blank(int height, int width) {
    Image image;
    image.height = height;
    image.width = width;
    image.chw.assign(static_cast<std::size_t>(3) * height * width, 0.0f);
    return image;
}

// 8-bit samples with `channels` per pixel: grey (1, 2) or colour (3, 4); alpha is dropped.
void store_8bit(Image& image, int row, const unsigned char* data, int channels) {
    const std::size_t plane = static_cast<std::size_t>(image.height) * image.width;
    float* r = image.chw.data() + static_cast<std::size_t>(row) * image.width;
    for (int x = 0; x < image.width; ++x) {
        const unsigned char* px = data + static_cast<std::size_t>(x) * channels;
        if (channels < 3) {
            float v = static_cast<float>(px[0]) / 255.0f;
            r[x] = r[x + plane] = r[x + 2 * plane] = v;
        } else {
            r[x] = static_cast<float>(px[0]) / 255.0f;
            r[x + plane] = static_cast<float>(px[1]) / 255.0f;
            r[x + 2 * plane] = static_cast<float>(px[2]) / 255.0f;
        }
    }
}

// --- PNG ---------------------------------------------------------------------------------------------

struct PngState {
    char message[512] = "";
    std::vector<unsigned char> pixels;
    std::vector<png_bytep> rows;
};

void png_error_handler(png_structp png, png_const_charp message) {
    auto* state = static_cast<PngState*>(png_get_error_ptr(png));
    std::snprintf(state->message, sizeof state->message, "%s", message ? message : "libpng error");
    png_longjmp(png, 1);
}

void png_warning_handler(png_structp, png_const_charp) {}  // Pillow says nothing either

Image read_png(std::FILE* file) {
    PngState state;  // lives outside the jump: only reached through this pointer below
    PngState* s = &state;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, png_error_handler, png_warning_handler);
    if (!png) throw std::runtime_error("out of memory");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        throw std::runtime_error("out of memory");
    }
    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, colour = 0, channels = 0;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        throw std::runtime_error(std::string("not a readable PNG: ") + s->message);
    }
    png_init_io(png, file);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_get_IHDR(png, info, &width, &height, &bit_depth, &colour, nullptr, nullptr, nullptr);
    const bool grey16 = bit_depth == 16 && colour == PNG_COLOR_TYPE_GRAY;  // Pillow's "I;16"
    if (!grey16) {
        // Pillow's "L", "LA", "RGB", "RGBA", "P" and "1": to 8 bits; 16-bit samples keep their high byte.
        if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
        if (colour == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
        if (bit_depth == 16) png_set_strip_16(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    channels = png_get_channels(png, info);
    const std::size_t row_bytes = png_get_rowbytes(png, info);
    if (width == 0 || height == 0 || width > 0x7FFFFFFF / 4 || height > 0x7FFFFFFF / 4) {
        png_error(png, "image size out of range");
    }
    s->pixels.resize(row_bytes * height);
    s->rows.resize(height);
    for (png_uint_32 y = 0; y < height; ++y) s->rows[y] = s->pixels.data() + y * row_bytes;
    png_read_image(png, s->rows.data());
    png_destroy_read_struct(&png, &info, nullptr);

    Image image = blank(static_cast<int>(height), static_cast<int>(width));
    const std::size_t plane = static_cast<std::size_t>(height) * width;
    for (png_uint_32 y = 0; y < height; ++y) {
        const unsigned char* row = s->rows[y];
        if (grey16) {
            float* out = image.chw.data() + static_cast<std::size_t>(y) * width;
            for (png_uint_32 x = 0; x < width; ++x) {
                const unsigned char* px = row + static_cast<std::size_t>(x) * 2 * channels;
                float v = static_cast<float>((px[0] << 8) | px[1]) / 65535.0f;
                out[x] = out[x + plane] = out[x + 2 * plane] = v;
            }
        } else {
            store_8bit(image, static_cast<int>(y), row, channels);
        }
    }
    return image;
}

// --- JPEG --------------------------------------------------------------------------------------------

struct JpegError {
    jpeg_error_mgr manager;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr info) {
    auto* error = reinterpret_cast<JpegError*>(info->err);
    (*info->err->format_message)(info, error->message);
    std::longjmp(error->jump, 1);
}

void jpeg_quiet(j_common_ptr, int) {}  // warnings are not errors, as with Pillow

// a * b / 255, rounded, in integers (the way Pillow converts CMYK).
inline int mul_div_255(int a, int b) {
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

Image read_jpeg(std::FILE* file) {
    struct Decoder {
        jpeg_decompress_struct info;
        JpegError error;
        std::vector<unsigned char> row;
        std::vector<unsigned char> rgb;
        Image image;
    };
    auto owned = std::make_unique<Decoder>();  // everything the jump may need, kept off the stack
    Decoder* d = owned.get();
    d->info.err = jpeg_std_error(&d->error.manager);
    d->error.manager.error_exit = jpeg_error_exit;
    d->error.manager.emit_message = jpeg_quiet;
    d->error.message[0] = '\0';
    if (setjmp(d->error.jump)) {
        jpeg_destroy_decompress(&d->info);
        throw std::runtime_error(std::string("not a readable JPEG: ") + d->error.message);
    }
    jpeg_create_decompress(&d->info);
    jpeg_stdio_src(&d->info, file);
    jpeg_read_header(&d->info, TRUE);
    // Pillow: 1 component is "L", 3 are "RGB", 4 are "CMYK" with Adobe's inverted polarity.
    const int components = d->info.num_components;
    if (components == 1) {
        d->info.out_color_space = JCS_GRAYSCALE;
    } else if (components == 3) {
        d->info.out_color_space = JCS_RGB;
    } else if (components == 4) {
        d->info.out_color_space = JCS_CMYK;
    } else {
        std::snprintf(d->error.message, sizeof d->error.message, "cannot handle %d-component images", components);
        std::longjmp(d->error.jump, 1);
    }
    jpeg_start_decompress(&d->info);
    const int width = static_cast<int>(d->info.output_width);
    const int height = static_cast<int>(d->info.output_height);
    const int channels = d->info.output_components;
    d->image = blank(height, width);
    d->row.resize(static_cast<std::size_t>(width) * channels);
    d->rgb.resize(static_cast<std::size_t>(width) * 3);
    unsigned char* rgb = d->rgb.data();
    while (d->info.output_scanline < d->info.output_height) {
        const int y = static_cast<int>(d->info.output_scanline);
        JSAMPROW rows[1] = {d->row.data()};
        jpeg_read_scanlines(&d->info, rows, 1);
        if (channels == 4) {
            for (int x = 0; x < width; ++x) {
                const unsigned char* px = d->row.data() + static_cast<std::size_t>(x) * 4;
                const int k = 255 - px[3];  // inverted: the stored value is 255 - K
                const int keep = 255 - k;
                for (int c = 0; c < 3; ++c) {
                    const int ink = 255 - px[c];
                    rgb[static_cast<std::size_t>(x) * 3 + c] = static_cast<unsigned char>(keep - mul_div_255(ink, keep));
                }
            }
            store_8bit(d->image, y, rgb, 3);
        } else {
            store_8bit(d->image, y, d->row.data(), channels);
        }
    }
    jpeg_finish_decompress(&d->info);
    jpeg_destroy_decompress(&d->info);
    return std::move(d->image);
}

}  // namespace

Image read_image(const std::string& path) {
    File file(std::fopen(path.c_str(), "rb"));
    if (!file) throw std::runtime_error(std::string(std::strerror(errno)));
    unsigned char signature[8] = {0};
    const std::size_t got = std::fread(signature, 1, sizeof signature, file.get());
    if (got == 8 && png_sig_cmp(signature, 0, 8) == 0) return read_png(file.get());
    if (got >= 3 && signature[0] == 0xFF && signature[1] == 0xD8 && signature[2] == 0xFF) {
        std::rewind(file.get());
        return read_jpeg(file.get());
    }
    throw std::runtime_error("not a PNG or JPEG file (the formats this program reads)");
}

}  // namespace loupe
