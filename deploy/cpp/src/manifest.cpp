#include "manifest.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "json.h"

namespace loupe {

namespace {

class Reader {
public:
    explicit Reader(const Json& root) : root_(root) {}

    const Json* optional(const std::string& path) const {
        const Json* node = &root_;
        std::size_t start = 0;
        while (node) {
            std::size_t dot = path.find('.', start);
            node = node->find(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
            if (dot == std::string::npos) break;
            start = dot + 1;
        }
        return node;
    }

    const Json& get(const std::string& path, Json::Type type) const {
        const Json* node = optional(path);
        if (!node) throw std::runtime_error("manifest.json has no '" + path + "'");
        if (node->type != type) {
            throw std::runtime_error("manifest.json's '" + path + "' is " + type_name(node->type) + ", not " +
                                     type_name(type));
        }
        return *node;
    }

    double number(const std::string& path) const { return get(path, Json::Type::Number).number; }

    double finite(const std::string& path) const {
        double value = number(path);
        if (!std::isfinite(value)) throw std::runtime_error("manifest.json's '" + path + "' is not finite");
        return value;
    }

    long integer(const std::string& path) const {
        double value = finite(path);
        if (value != std::floor(value) || std::fabs(value) > 1e15) {
            throw std::runtime_error("manifest.json's '" + path + "' is not a whole number");
        }
        return static_cast<long>(value);
    }

    const std::string& string(const std::string& path) const { return get(path, Json::Type::String).string; }
    bool boolean(const std::string& path) const { return get(path, Json::Type::Bool).boolean; }

private:
    const Json& root_;
};

}  // namespace

Manifest read_manifest(const std::string& directory) {
    const std::string path = directory + "/manifest.json";
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::runtime_error("cannot read " + path + ": is " + directory + " an export folder?");
    std::ostringstream text;
    text << file.rdbuf();
    Json root;
    try {
        root = Json::parse(text.str());
    } catch (const std::exception& error) {
        throw std::runtime_error(path + ": " + error.what());
    }
    if (root.type != Json::Type::Object) throw std::runtime_error(path + " does not hold a JSON object");
    Reader r(root);
    const Json* format = r.optional("format");
    const Json* version = r.optional("format_version");
    if (!format || format->type != Json::Type::String || format->string != "loupe-export" || !version ||
        version->type != Json::Type::Number || version->number != 2.0) {
        throw std::runtime_error(directory +
                                 " is not a Loupe export this runner reads (loupe-export, 2): export the version "
                                 "again, or use the runner of the Loupe that exported it");
    }

    Manifest m;
    m.mode = r.string("canvas.mode");
    if (m.mode != "letterbox" && m.mode != "resize" && m.mode != "tile") {
        throw std::runtime_error("manifest.json's canvas mode '" + m.mode + "' is unknown (letterbox, resize, tile)");
    }
    long size = r.integer("canvas.size");
    if (size < 1 || size > 65536) throw std::runtime_error("manifest.json's 'canvas.size' is out of range");
    m.size = static_cast<int>(size);
    if (m.mode != "resize") {
        long overlap = r.integer("canvas.tile_overlap");
        if (overlap < 0 || overlap >= size) {
            throw std::runtime_error("manifest.json's 'canvas.tile_overlap' must lie in [0, canvas.size)");
        }
        m.tile_overlap = static_cast<int>(overlap);
    }
    if (m.mode == "tile") {
        m.tile_scale = r.finite("canvas.tile_scale");
        if (!(m.tile_scale > 0.0)) throw std::runtime_error("manifest.json's 'canvas.tile_scale' must be positive");
    }

    m.normalize_intensity = r.boolean("input.normalize_intensity");
    if (m.normalize_intensity) {
        m.intensity_mean = r.finite("input.intensity_mean");
        m.intensity_std = r.finite("input.intensity_std");
    }

    m.openvino_fp32 = r.string("model.openvino.fp32");
    if (const Json* fp16 = r.optional("model.openvino.fp16"); fp16 && fp16->type == Json::Type::String) {
        m.openvino_fp16 = fp16->string;
    }
    m.inference_precision = r.string("model.openvino_inference_precision");

    m.pixel_threshold = r.number("regions.pixel_threshold");
    m.min_area = r.integer("regions.min_area");
    return m;
}

}  // namespace loupe
