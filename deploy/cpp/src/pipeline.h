// The manifest's rule, step by step, as Loupe's Python runner (deploy/python/loupe_inspect.py) follows it:
// an image to the graph's canvases, the graph's map to flagged regions.
#pragma once

#include <string>
#include <vector>

#include "image_io.h"
#include "manifest.h"

namespace loupe {

// Where a canvas's valid part lies: rows [top, bottom) and columns [left, right) of the canvas, put at
// (row, col) of the scaled image.
struct Place {
    int top = 0, left = 0, bottom = 0, right = 0;
    int row = 0, col = 0;
};

struct Canvases {
    int count = 0;
    std::vector<float> data;  // count x 3 x size x size
    std::vector<Place> places;
    int scaled_height = 0, scaled_width = 0;
};

// The canvases of one image (the image is standardised in place when the manifest asks for it).
Canvases canvases_of(Image& image, const Manifest& manifest);

struct Region {
    long x = 0, y = 0, width = 0, height = 0, area = 0;
    float peak = 0.0f;
};

struct Verdict {
    double score = 0.0;
    double normalized_score = 0.0;
    bool defective = false;
    std::vector<Region> regions;
};

// The 8-connected regions of map >= threshold of at least min_area px, in the order of their first pixel.
std::vector<Region> regions(const std::vector<float>& map, int height, int width, double threshold, long min_area);

}  // namespace loupe
