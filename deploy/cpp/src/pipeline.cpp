#include "pipeline.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>

namespace loupe {

namespace {

// NumPy's sum of a contiguous array (pairwise, 8 partial sums in blocks of at most 128), so that means
// and deviations come out to the bit as the Python runner's do.
template <typename T>
T pairwise_sum(const T* a, std::size_t n) {
    if (n < 8) {
        T total = 0;
        for (std::size_t i = 0; i < n; ++i) total += a[i];
        return total;
    }
    if (n <= 128) {
        T partial[8];
        for (int j = 0; j < 8; ++j) partial[j] = a[j];
        std::size_t i = 8;
        for (; i < n - n % 8; i += 8) {
            for (int j = 0; j < 8; ++j) partial[j] += a[i + j];
        }
        T total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
                  ((partial[4] + partial[5]) + (partial[6] + partial[7]));
        for (; i < n; ++i) total += a[i];
        return total;
    }
    std::size_t half = n / 2;
    half -= half % 8;
    return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
}

// NumPy's float32 mean: a float32 sum divided by the count in double, back to float32.
float numpy_mean(const float* a, std::size_t n) {
    return static_cast<float>(static_cast<double>(pairwise_sum(a, n)) / static_cast<double>(n));
}

// The manifest's intensity rule: clip((x - mean) * s + intensity_mean, 0, 1), s = intensity_std / std
// (unbiased), or 1 when std <= 1e-6.
void standardize(std::vector<float>& chw, double mean, double std_target) {
    const std::size_t n = chw.size();
    double spread = 0.0;
    if (n > 1) {
        const float centre = numpy_mean(chw.data(), n);
        std::vector<float> squares(n);
        for (std::size_t i = 0; i < n; ++i) {
            const float d = chw[i] - centre;
            squares[i] = d * d;
        }
        const float variance =
            static_cast<float>(static_cast<double>(pairwise_sum(squares.data(), n)) / static_cast<double>(n - 1));
        spread = static_cast<double>(std::sqrt(variance));
    }
    const float scale = static_cast<float>(spread > 1e-6 ? std_target / spread : 1.0);
    const float offset = static_cast<float>(mean);
    const float centre = numpy_mean(chw.data(), n);
    for (float& v : chw) {
        const float x = (v - centre) * scale + offset;
        v = x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x);
    }
}

// The taps of one output sample of an antialiased bilinear resize (half-pixel centres).
struct Taps {
    long start = 0;
    std::vector<float> weights;  // for source samples start, start + 1, ...
};

std::vector<Taps> antialias_taps(long source, long target) {
    const double scale = static_cast<double>(source) / static_cast<double>(target);
    const double support = scale >= 1.0 ? scale : 1.0;
    const double inverse = scale >= 1.0 ? 1.0 / scale : 1.0;
    std::vector<Taps> out(static_cast<std::size_t>(target));
    std::vector<double> taps;
    for (long i = 0; i < target; ++i) {
        const double centre = scale * (static_cast<double>(i) + 0.5);
        const long start = std::max(static_cast<long>(centre - support + 0.5), 0L);  // int(): toward zero
        const long stop = std::min(static_cast<long>(centre + support + 0.5), source);
        taps.clear();
        for (long j = start; j < stop; ++j) {
            taps.push_back(std::max(0.0, 1.0 - std::fabs(((static_cast<double>(j) - centre) + 0.5) * inverse)));
        }
        const double total = pairwise_sum(taps.data(), taps.size());
        Taps& t = out[static_cast<std::size_t>(i)];
        t.start = start;
        for (double tap : taps) t.weights.push_back(static_cast<float>(total > 0.0 ? tap / total : tap));
    }
    return out;
}

// (C, h, w) to (C, th, tw): width first (a float32 matrix product: fused multiply-adds in tap order),
// then height (float32 multiply, then add, in tap order).
std::vector<float> resize_antialiased(const std::vector<float>& chw, int height, int width, int target_height,
                                      int target_width) {
    if (height == target_height && width == target_width) return chw;
    const std::vector<Taps> across_taps = antialias_taps(width, target_width);
    const std::vector<Taps> down_taps = antialias_taps(height, target_height);
    const std::size_t h = static_cast<std::size_t>(height), w = static_cast<std::size_t>(width);
    const std::size_t th = static_cast<std::size_t>(target_height), tw = static_cast<std::size_t>(target_width);
    std::vector<float> across(3 * h * tw);
    for (std::size_t row = 0; row < 3 * h; ++row) {
        const float* in = chw.data() + row * w;
        float* out = across.data() + row * tw;
        for (std::size_t j = 0; j < tw; ++j) {
            const Taps& t = across_taps[j];
            float acc = 0.0f;
            for (std::size_t k = 0; k < t.weights.size(); ++k) {
                acc = std::fma(in[static_cast<std::size_t>(t.start) + k], t.weights[k], acc);
            }
            out[j] = acc;
        }
    }
    std::vector<float> out(3 * th * tw, 0.0f);
    for (std::size_t c = 0; c < 3; ++c) {
        for (std::size_t i = 0; i < th; ++i) {
            const Taps& t = down_taps[i];
            float* dst = out.data() + (c * th + i) * tw;
            for (std::size_t k = 0; k < t.weights.size(); ++k) {
                const float weight = t.weights[k];
                const float* src = across.data() + (c * h + static_cast<std::size_t>(t.start) + k) * tw;
                for (std::size_t x = 0; x < tw; ++x) {
                    const float product = weight * src[x];
                    dst[x] = dst[x] + product;
                }
            }
        }
    }
    return out;
}

// Index i of a side of length `size` padded by mirroring (edge pixel repeated).
long mirror(long i, long size) {
    if (size == 1) return 0;
    const long folded = i % (2 * size);
    return folded < size ? folded : 2 * size - 1 - folded;
}

std::vector<long> tile_starts(long length, long tile, long overlap) {
    if (length <= tile) return {0};
    const long count = static_cast<long>(
        std::ceil(static_cast<double>(length - overlap) / static_cast<double>(tile - overlap)));
    std::vector<long> starts;
    for (long i = 0; i < count; ++i) {
        // Python's round(): half to even, as nearbyint in the default rounding mode.
        starts.push_back(static_cast<long>(
            std::nearbyint(static_cast<double>(i * (length - tile)) / static_cast<double>(count - 1))));
    }
    return starts;
}

}  // namespace

Canvases canvases_of(Image& image, const Manifest& manifest) {
    if (manifest.normalize_intensity) standardize(image.chw, manifest.intensity_mean, manifest.intensity_std);
    const int height = image.height, width = image.width, size = manifest.size;
    const std::size_t area = static_cast<std::size_t>(size) * size;
    Canvases out;
    if (manifest.mode == "resize") {
        out.count = 1;
        out.data = resize_antialiased(image.chw, height, width, size, size);
        out.places.push_back(Place{0, 0, size, size, 0, 0});
        out.scaled_height = out.scaled_width = size;
        return out;
    }
    const double scale = manifest.mode == "letterbox"
                             ? static_cast<double>(size) / static_cast<double>(std::max(height, width))
                             : manifest.tile_scale;
    const double sh = std::nearbyint(static_cast<double>(height) * scale);
    const double sw = std::nearbyint(static_cast<double>(width) * scale);
    if (!(sh < 1e6 && sw < 1e6)) throw std::runtime_error("the scaled image would be too large");
    const int scaled_h = std::max(1, static_cast<int>(sh)), scaled_w = std::max(1, static_cast<int>(sw));
    const std::vector<float> scaled = resize_antialiased(image.chw, height, width, scaled_h, scaled_w);
    out.scaled_height = scaled_h;
    out.scaled_width = scaled_w;
    const std::vector<long> tops = tile_starts(scaled_h, size, manifest.tile_overlap);
    const std::vector<long> lefts = tile_starts(scaled_w, size, manifest.tile_overlap);
    out.count = static_cast<int>(tops.size() * lefts.size());
    out.data.resize(static_cast<std::size_t>(out.count) * 3 * area);
    // Padded side lengths (mirror padding only where a side is shorter than the canvas).
    std::vector<long> row_index(static_cast<std::size_t>(std::max(size, scaled_h)));
    std::vector<long> col_index(static_cast<std::size_t>(std::max(size, scaled_w)));
    for (std::size_t i = 0; i < row_index.size(); ++i) row_index[i] = mirror(static_cast<long>(i), scaled_h);
    for (std::size_t i = 0; i < col_index.size(); ++i) col_index[i] = mirror(static_cast<long>(i), scaled_w);
    const std::size_t plane = static_cast<std::size_t>(scaled_h) * scaled_w;
    std::size_t k = 0;
    for (long top : tops) {
        for (long left : lefts) {
            float* canvas = out.data.data() + k * 3 * area;
            for (int c = 0; c < 3; ++c) {
                for (int y = 0; y < size; ++y) {
                    const float* src = scaled.data() + c * plane +
                                       static_cast<std::size_t>(row_index[static_cast<std::size_t>(top + y)]) * scaled_w;
                    float* dst = canvas + (static_cast<std::size_t>(c) * size + y) * size;
                    for (int x = 0; x < size; ++x) dst[x] = src[col_index[static_cast<std::size_t>(left + x)]];
                }
            }
            Place place;
            place.bottom = static_cast<int>(std::min<long>(size, scaled_h - top));
            place.right = static_cast<int>(std::min<long>(size, scaled_w - left));
            place.row = static_cast<int>(top);
            place.col = static_cast<int>(left);
            out.places.push_back(place);
            ++k;
        }
    }
    return out;
}

std::vector<Region> regions(const std::vector<float>& map, int height, int width, double threshold, long min_area) {
    // Runs of each row, joined (union-find, the smaller index the root) with the runs they touch in the row
    // above, diagonals included.
    struct Run {
        long row, start, stop;
    };
    std::vector<Run> runs;
    std::vector<std::size_t> parent;
    auto root = [&parent](std::size_t i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    };
    std::size_t previous_begin = 0, previous_end = 0;  // runs of the row above
    for (long y = 0; y < height; ++y) {
        const float* row = map.data() + static_cast<std::size_t>(y) * width;
        const std::size_t begin = runs.size();
        long x = 0;
        while (x < width) {
            if (!(static_cast<double>(row[x]) >= threshold)) {
                ++x;
                continue;
            }
            long stop = x;
            while (stop < width && static_cast<double>(row[stop]) >= threshold) ++stop;
            runs.push_back(Run{y, x, stop});
            parent.push_back(runs.size() - 1);
            const std::size_t index = runs.size() - 1;
            for (std::size_t other = previous_begin; other < previous_end; ++other) {
                if (runs[other].start <= stop && runs[other].stop >= x) {
                    const std::size_t a = root(index), b = root(other);
                    parent[std::max(a, b)] = std::min(a, b);
                }
            }
            x = stop;
        }
        previous_begin = begin;
        previous_end = runs.size();
    }
    // Components in the order of their first run (= their root, the smallest index).
    struct Box {
        long left, top, right, bottom, area;
        float peak;
    };
    std::vector<long> slot(runs.size(), -1);
    std::vector<Box> boxes;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const Run& run = runs[i];
        const float* row = map.data() + static_cast<std::size_t>(run.row) * width;
        const float peak = *std::max_element(row + run.start, row + run.stop);
        const std::size_t r = root(i);
        if (slot[r] < 0) {
            slot[r] = static_cast<long>(boxes.size());
            boxes.push_back(Box{run.start, run.row, run.stop, run.row + 1, 0, peak});
        }
        Box& box = boxes[static_cast<std::size_t>(slot[r])];
        box.left = std::min(box.left, run.start);
        box.right = std::max(box.right, run.stop);
        box.bottom = std::max(box.bottom, run.row + 1);
        box.area += run.stop - run.start;
        box.peak = std::max(box.peak, peak);
    }
    std::vector<Region> out;
    for (const Box& box : boxes) {
        if (box.area < min_area) continue;
        Region region;
        region.x = box.left;
        region.y = box.top;
        region.width = box.right - box.left;
        region.height = box.bottom - box.top;
        region.area = box.area;
        region.peak = box.peak;
        out.push_back(region);
    }
    return out;
}

}  // namespace loupe
