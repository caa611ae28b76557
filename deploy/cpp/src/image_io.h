// Decoding PNG and JPEG files to float RGB by the manifest's colour and bit-depth rule.
#pragma once

#include <string>
#include <vector>

namespace loupe {

// Planar float RGB in [0, 1]: plane c holds rows of `width` values, c = 0 (R), 1 (G), 2 (B).
struct Image {
    int height = 0;
    int width = 0;
    std::vector<float> chw;  // 3 * height * width
};

// Reads a PNG (any bit depth and colour type) or a JPEG, as Loupe's Python runner reads it with Pillow:
// 8-bit grey and RGB as they are (/ 255), 16-bit grey / 65535, everything else as 8-bit RGB (a 16-bit
// colour sample keeps its high byte, a palette is looked up, alpha is dropped, CMYK is converted).
// Throws std::runtime_error with a sentence when the file cannot be read.
Image read_image(const std::string& path);

}  // namespace loupe
