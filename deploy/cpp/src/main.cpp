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
#include <deque>
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
    "  --batch-size N  canvases per forward pass (default 16)\n";

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

// The compiled graph: canvases (N, 3, S, S) and, when it declares it, valid (N, 4) to maps (N, S, S).
class Model {
public:
    Model(const std::string& xml, const loupe::Manifest& manifest) : size_(manifest.size) {
        ov::Core core;
        compiled_ = core.compile_model(xml, "CPU",
                                       ov::AnyMap{{"INFERENCE_PRECISION_HINT", manifest.inference_precision}});
        bool found = false;
        for (const ov::Output<const ov::Node>& input : compiled_.inputs()) {
            if (input.get_names().count("canvases")) {
                canvases_ = input;
                found = true;
            } else if (input.get_names().count("valid")) {
                valid_ = input;
                has_valid_ = true;
            }
        }
        if (!found) throw std::runtime_error(xml + " has no input called 'canvases'");
        output_ = compiled_.output(0);
        for (const ov::Output<const ov::Node>& output : compiled_.outputs()) {
            if (output.get_names().count("maps")) output_ = output;
        }
        request_ = compiled_.create_infer_request();
    }

    // Maps of `count` canvases, appended to `maps` (size x size floats each).
    void forward(std::vector<float>& canvases, std::vector<float>& valid, std::size_t count,
                 std::deque<std::vector<float>>& maps) {
        const std::size_t s = static_cast<std::size_t>(size_);
        request_.set_tensor(canvases_, ov::Tensor(ov::element::f32, ov::Shape{count, 3, s, s}, canvases.data()));
        if (has_valid_) request_.set_tensor(valid_, ov::Tensor(ov::element::f32, ov::Shape{count, 4}, valid.data()));
        request_.infer();
        ov::Tensor out = request_.get_tensor(output_);
        if (out.get_element_type() != ov::element::f32 || out.get_size() != count * s * s) {
            throw std::runtime_error("the model's maps have shape " + out.get_shape().to_string() + ", expected [" +
                                     std::to_string(count) + "," + std::to_string(s) + "," + std::to_string(s) +
                                     "] float32");
        }
        const float* data = out.data<const float>();
        for (std::size_t i = 0; i < count; ++i) maps.emplace_back(data + i * s * s, data + (i + 1) * s * s);
    }

private:
    int size_;
    ov::CompiledModel compiled_;
    ov::InferRequest request_;
    ov::Output<const ov::Node> canvases_, valid_, output_;
    bool has_valid_ = false;
};

struct Pending {  // an image whose canvases are queued or run
    std::string path;
    loupe::Canvases layout;  // its canvases' pixels are dropped once queued
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

    const std::size_t canvas_floats = static_cast<std::size_t>(3) * manifest.size * manifest.size;
    const std::size_t batch = static_cast<std::size_t>(batch_size);
    std::vector<float> canvases, valid;  // the queued canvases, batched across images
    std::size_t queued = 0;
    std::deque<Pending> layouts;          // images not yet printed, in order
    std::deque<std::vector<float>> done;  // canvas maps not yet stitched, in order

    auto flush = [&]() {
        model->forward(canvases, valid, queued, done);
        canvases.clear();
        valid.clear();
        queued = 0;
    };
    auto print_ready = [&]() {
        while (!layouts.empty() && done.size() >= layouts.front().layout.places.size()) {
            const Pending& p = layouts.front();
            std::vector<const float*> maps;
            for (std::size_t i = 0; i < p.layout.places.size(); ++i) maps.push_back(done[i].data());
            const std::vector<float> map = loupe::stitch(maps, p.layout, manifest.size, p.height, p.width);
            const std::string line =
                verdict_line(python_path(p.path), loupe::verdict(map, p.height, p.width, manifest));
            std::fprintf(stdout, "%s\n", line.c_str());
            std::fflush(stdout);
            for (std::size_t i = 0; i < p.layout.places.size(); ++i) done.pop_front();
            layouts.pop_front();
        }
    };

    try {
        for (const std::string& path : images) {
            loupe::Image image;
            try {
                image = loupe::read_image(path);
            } catch (const std::exception& error) {
                throw std::runtime_error("cannot read image " + path + ": " + error.what());
            }
            Pending pending;
            pending.path = path;
            pending.height = image.height;
            pending.width = image.width;
            pending.layout = loupe::canvases_of(image, manifest);
            std::vector<float> pixels = std::move(pending.layout.data);
            const std::vector<loupe::Place> places = pending.layout.places;
            layouts.push_back(std::move(pending));
            for (std::size_t k = 0; k < places.size(); ++k) {
                canvases.insert(canvases.end(), pixels.begin() + static_cast<std::ptrdiff_t>(k * canvas_floats),
                                pixels.begin() + static_cast<std::ptrdiff_t>((k + 1) * canvas_floats));
                const loupe::Place& p = places[k];
                valid.insert(valid.end(), {static_cast<float>(p.top), static_cast<float>(p.left),
                                           static_cast<float>(p.bottom), static_cast<float>(p.right)});
                if (++queued == batch) {
                    flush();
                    print_ready();
                }
            }
        }
        if (queued) flush();
        print_ready();
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
