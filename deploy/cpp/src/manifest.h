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
    // regions (the score, normalised score and decision come out of the graph)
    double pixel_threshold = 0.0;
    long min_area = 0;
};

// Reads and checks DIRECTORY/manifest.json; throws std::runtime_error with a sentence on any fault.
Manifest read_manifest(const std::string& directory);

}  // namespace loupe
