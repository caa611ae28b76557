// A small JSON reader (RFC 8259) for the export's manifest.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace loupe {

class Json {
public:
    enum class Type { Null, Bool, Number, String, Array, Object };

    Type type = Type::Null;
    bool boolean = false;
    double number = 0.0;
    std::string string;
    std::vector<Json> array;
    std::vector<std::pair<std::string, Json>> object;  // in the order of the text

    // The member called `key` of an object, or nullptr (also when this is not an object).
    const Json* find(const std::string& key) const;

    static Json parse(const std::string& text);  // throws std::runtime_error saying where and why
};

const char* type_name(Json::Type type);

}  // namespace loupe
