// loupe-inspect EXPORT_DIR IMAGE... : inspect images with a model exported from Loupe.
//
// Prints one JSON object per image and line: image (the path given), score, normalized_score,
// decision ("defective" or "normal") and regions (x, y, width, height, area, peak; image px).
// It follows the export's manifest.json step by step, as Loupe's Python runner
// (deploy/python/loupe_inspect.py) does, and runs the OpenVINO IR on the CPU.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <openvino/openvino.hpp>

#include "image_io.h"
#include "manifest.h"
#include "pipeline.h"

namespace {

const char* const kUsage =
    "usage: loupe-inspect [--fp16] [--batch-size N] EXPORT_DIR IMAGE [IMAGE ...]\n"
    "\n"
    "Inspect PNG or JPEG images with a model exported from Loupe; one JSON line per image.\n"
    "  --fp16          run the FP16 OpenVINO IR instead of the FP32 one\n"
    "  --batch-size N  canvases per forward pass at most (default 16); consecutive images of one\n"
    "                  shape share a pass\n";

// The path as Python's pathlib writes it (str(Path(p))): repeated and trailing slashes and "." parts go.
std::string python_path(const std::string& path) {
    if (path.empty()) return ".";
    std::string prefix;
    std::size_t i = 0;
    if (path[0] == '/') {
        prefix = (path.size() > 1 && path[1] == '/' && (path.size() == 2 || path[2] != '/')) ? "//" : "/";
        while (i < path.size() && path[i] == '/') ++i;
    }
    std::string out = prefix;
    bool first = true;
    while (i < path.size()) {
        std::size_t end = path.find('/', i);
        if (end == std::string::npos) end = path.size();
        const std::string part = path.substr(i, end - i);
        if (!part.empty() && part != ".") {
            if (!first) out += '/';
            out += part;
            first = false;
        }
        i = end + 1;
    }
    return out.empty() ? "." : out;
}

void json_string(std::string& out, const std::string& text) {
    static const char* hex = "0123456789abcdef";
    out += '"';
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

// The shortest text that reads back as the same double (what Python's json writes, up to layout).
void json_number(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "Infinity" : "-Infinity";
        return;
    }
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    std::string text(buffer, result.ptr);
    if (text.find_first_of(".eE") == std::string::npos) text += ".0";  // keep it a float, as Python does
    out += text;
}

std::string verdict_line(const std::string& image, const loupe::Verdict& v) {
    std::string out = "{\"image\": ";
    json_string(out, image);
    out += ", \"score\": ";
    json_number(out, v.score);
    out += ", \"normalized_score\": ";
    json_number(out, v.normalized_score);
    out += v.defective ? ", \"decision\": \"defective\"" : ", \"decision\": \"normal\"";
    out += ", \"regions\": [";
    for (std::size_t i = 0; i < v.regions.size(); ++i) {
        const loupe::Region& r = v.regions[i];
        if (i) out += ", ";
        out += "{\"x\": " + std::to_string(r.x) + ", \"y\": " + std::to_string(r.y) +
               ", \"width\": " + std::to_string(r.width) + ", \"height\": " + std::to_string(r.height) +
               ", \"area\": " + std::to_string(r.area) + ", \"peak\": ";
        json_number(out, static_cast<double>(r.peak));
        out += "}";
    }
    out += "]}";
    return out;
}

// The compiled graph: canvases (N, T, 3, S, S) of N images of one shape, places (T, 6), scaled_shape and
// image_shape (2) in; anomaly_map (N, H, W), score, normalized_score (N) and decision (N) out.
class Model {
public:
    Model(const std::string& xml, const loupe::Manifest& manifest) : size_(manifest.size) {
        ov::Core core;
        compiled_ = core.compile_model(xml, "CPU",
                                       ov::AnyMap{{"INFERENCE_PRECISION_HINT", manifest.inference_precision}});
        for (const char* name : {"canvases", "places", "scaled_shape", "image_shape"}) {
            inputs_.push_back(find(compiled_.inputs(), name, xml, "input"));
        }
        for (const char* name : {"anomaly_map", "score", "normalized_score", "decision"}) {
            outputs_.push_back(find(compiled_.outputs(), name, xml, "output"));
        }
        request_ = compiled_.create_infer_request();
    }

    // The verdicts (regions not yet found) and maps of the batch's images, in order.
    std::vector<loupe::Verdict> forward(std::vector<float>& canvases, const loupe::Canvases& layout, std::size_t count,
                                        int height, int width, std::vector<std::vector<float>>& maps) {
        const std::size_t s = static_cast<std::size_t>(size_), tiles = layout.places.size();
        std::vector<float> places;
        for (const loupe::Place& p : layout.places) {
            for (int v : {p.top, p.left, p.bottom, p.right, p.row, p.col}) places.push_back(static_cast<float>(v));
        }
        std::int64_t scaled[2] = {layout.scaled_height, layout.scaled_width};
        std::int64_t shape[2] = {height, width};
        request_.set_tensor(inputs_[0], ov::Tensor(ov::element::f32, ov::Shape{count, tiles, 3, s, s}, canvases.data()));
        request_.set_tensor(inputs_[1], ov::Tensor(ov::element::f32, ov::Shape{tiles, 6}, places.data()));
        request_.set_tensor(inputs_[2], ov::Tensor(ov::element::i64, ov::Shape{2}, scaled));
        request_.set_tensor(inputs_[3], ov::Tensor(ov::element::i64, ov::Shape{2}, shape));
        request_.infer();
        const std::size_t pixels = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
        const float* map = floats(request_.get_tensor(outputs_[0]), count * pixels, "anomaly_map");
        const float* score = floats(request_.get_tensor(outputs_[1]), count, "score");
        const float* normalized = floats(request_.get_tensor(outputs_[2]), count, "normalized_score");
        ov::Tensor decision = request_.get_tensor(outputs_[3]);
        const ov::element::Type type = decision.get_element_type();
        if ((type != ov::element::boolean && type != ov::element::u8) || decision.get_size() != count) {
            throw std::runtime_error("the model's decision is " + type.get_type_name() + " of shape " +
                                     decision.get_shape().to_string() + ", expected " + std::to_string(count) +
                                     " booleans");
        }
        const unsigned char* defective = static_cast<const unsigned char*>(decision.data());
        std::vector<loupe::Verdict> out(count);
        maps.clear();
        for (std::size_t i = 0; i < count; ++i) {
            out[i].score = score[i];
            out[i].normalized_score = normalized[i];
            out[i].defective = defective[i] != 0;
            maps.emplace_back(map + i * pixels, map + (i + 1) * pixels);
        }
        return out;
    }

private:
    static ov::Output<const ov::Node> find(const std::vector<ov::Output<const ov::Node>>& ports, const char* name,
                                           const std::string& xml, const char* kind) {
        for (const ov::Output<const ov::Node>& port : ports) {
            if (port.get_names().count(name)) return port;
        }
        throw std::runtime_error(xml + " has no " + kind + " called '" + name + "': is it a Loupe export of format 2?");
    }

    static const float* floats(const ov::Tensor& tensor, std::size_t expected, const char* name) {
        if (tensor.get_element_type() != ov::element::f32 || tensor.get_size() != expected) {
            throw std::runtime_error(std::string("the model's ") + name + " has shape " +
                                     tensor.get_shape().to_string() + ", expected " + std::to_string(expected) +
                                     " float32 values");
        }
        return tensor.data<const float>();
    }

    int size_;
    ov::CompiledModel compiled_;
    ov::InferRequest request_;
    std::vector<ov::Output<const ov::Node>> inputs_, outputs_;
};

struct Batch {  // consecutive images of one shape, whose canvases run in one forward pass
    std::vector<std::string> paths;
    std::vector<float> canvases;
    loupe::Canvases layout;  // the shared places and scaled shape (its pixels are in `canvases`)
    int height = 0, width = 0;
};

int run(const std::string& directory, const std::vector<std::string>& images, bool fp16, long batch_size) {
    loupe::Manifest manifest;
    std::unique_ptr<Model> model;
    try {
        manifest = loupe::read_manifest(directory);
        const std::string& relative = fp16 ? manifest.openvino_fp16 : manifest.openvino_fp32;
        if (relative.empty()) throw std::runtime_error("manifest.json names no FP16 OpenVINO model (model.openvino.fp16)");
        const std::string xml = directory + "/" + relative;
        if (std::FILE* f = std::fopen(xml.c_str(), "rb")) {
            std::fclose(f);
        } else {
            throw std::runtime_error("cannot read the OpenVINO model " + xml);
        }
        model = std::make_unique<Model>(xml, manifest);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "loupe-inspect: %s\n", error.what());
        return 2;
    }

    Batch batch;
    std::vector<std::vector<float>> maps;
    auto flush = [&]() {
        if (batch.paths.empty()) return;
        std::vector<loupe::Verdict> verdicts =
            model->forward(batch.canvases, batch.layout, batch.paths.size(), batch.height, batch.width, maps);
        for (std::size_t i = 0; i < verdicts.size(); ++i) {
            verdicts[i].regions =
                loupe::regions(maps[i], batch.height, batch.width, manifest.pixel_threshold, manifest.min_area);
            const std::string line = verdict_line(python_path(batch.paths[i]), verdicts[i]);
            std::fprintf(stdout, "%s\n", line.c_str());
        }
        std::fflush(stdout);
        batch.paths.clear();
        batch.canvases.clear();
    };

    try {
        for (const std::string& path : images) {
            loupe::Image image;
            try {
                image = loupe::read_image(path);
            } catch (const std::exception& error) {
                throw std::runtime_error("cannot read image " + path + ": " + error.what());
            }
            const int height = image.height, width = image.width;
            loupe::Canvases layout = loupe::canvases_of(image, manifest);
            const bool same = !batch.paths.empty() && batch.height == height && batch.width == width;
            const std::size_t canvases_after = (batch.paths.size() + 1) * layout.places.size();
            if (!batch.paths.empty() && (!same || canvases_after > static_cast<std::size_t>(batch_size))) flush();
            batch.canvases.insert(batch.canvases.end(), layout.data.begin(), layout.data.end());
            layout.data.clear();
            batch.layout = std::move(layout);
            batch.height = height;
            batch.width = width;
            batch.paths.push_back(path);
        }
        flush();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "loupe-inspect: %s\n", error.what());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bool fp16 = false;
    long batch_size = 16;
    std::vector<std::string> positional;
    bool options = true;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (options && arg == "--") {
            options = false;
        } else if (options && (arg == "-h" || arg == "--help")) {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (options && arg == "--fp16") {
            fp16 = true;
        } else if (options && (arg == "--batch-size" || arg.rfind("--batch-size=", 0) == 0)) {
            std::string value;
            if (arg == "--batch-size") {
                if (i + 1 >= argc) {
                    std::fprintf(stderr, "loupe-inspect: --batch-size needs a number\n%s", kUsage);
                    return 2;
                }
                value = argv[++i];
            } else {
                value = arg.substr(std::string("--batch-size=").size());
            }
            const char* begin = value.c_str();
            const auto parsed = std::from_chars(begin, begin + value.size(), batch_size);
            if (parsed.ec != std::errc() || parsed.ptr != begin + value.size() || batch_size < 1 ||
                batch_size > 4096) {
                std::fprintf(stderr, "loupe-inspect: --batch-size must be a whole number from 1 to 4096, not '%s'\n",
                             value.c_str());
                return 2;
            }
        } else if (options && arg.size() > 1 && arg[0] == '-') {
            std::fprintf(stderr, "loupe-inspect: unknown option %s\n%s", arg.c_str(), kUsage);
            return 2;
        } else {
            positional.push_back(arg);
        }
    }
    if (positional.size() < 2) {
        std::fprintf(stderr, "loupe-inspect: give an export folder and at least one image\n%s", kUsage);
        return 2;
    }
    const std::vector<std::string> images(positional.begin() + 1, positional.end());
    return run(positional[0], images, fp16, batch_size);
}
