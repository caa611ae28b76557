// The export's manifest.json: what loupe-inspect needs of it, checked on reading.
#pragma once

#include <string>

namespace loupe {

struct Manifest {
    // canvas
    std::string mode;  // "letterbox", "resize" or "tile"
    int size = 0;
    double tile_scale = 1.0;
    int tile_overlap = 0;
    // input
    bool normalize_intensity = false;
    double intensity_mean = 0.0;
    double intensity_std = 0.0;
    // model
    std::string openvino_fp32;  // relative to the export folder
    std::string openvino_fp16;  // empty when the export has none
    std::string inference_precision;
    // score
    std::string score_rule;  // "map_max", "map_top" or "peak_or_mean"
    double top_fraction = 0.0;
    double peak_mean = 0.0, peak_std = 0.0, level_mean = 0.0, level_std = 0.0;
    // decision
    double threshold = 0.0;
    double normalizer_low = 0.0, normalizer_threshold = 0.0, normalizer_high = 0.0;
    // regions
    double pixel_threshold = 0.0;
    long min_area = 0;
};

// Reads and checks DIRECTORY/manifest.json; throws std::runtime_error with a sentence on any fault.
Manifest read_manifest(const std::string& directory);

}  // namespace loupe
