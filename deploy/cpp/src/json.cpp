#include "json.h"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace loupe {

namespace {

class Parser {
public:
    explicit Parser(const std::string& text) : text_(text) {}

    Json document() {
        skip_space();
        Json value = parse_value(0);
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the JSON value");
        return value;
    }

private:
    const std::string& text_;
    std::size_t pos_ = 0;

    [[noreturn]] void fail(const std::string& why) const {
        std::size_t line = 1, column = 1;
        for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) {
            if (text_[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        throw std::runtime_error("invalid JSON at line " + std::to_string(line) + ", column " +
                                 std::to_string(column) + ": " + why);
    }

    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }

    void skip_space() {
        while (!at_end()) {
            char c = text_[pos_];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                ++pos_;
            } else {
                break;
            }
        }
    }

    void expect_word(const char* word) {
        for (const char* p = word; *p; ++p) {
            if (peek() != *p) fail(std::string("expected '") + word + "'");
            ++pos_;
        }
    }

    Json parse_value(int depth) {
        if (depth > 256) fail("nested too deeply");
        Json value;
        switch (peek()) {
            case '{': parse_object(value, depth); break;
            case '[': parse_array(value, depth); break;
            case '"':
                value.type = Json::Type::String;
                value.string = parse_string();
                break;
            case 't': expect_word("true"); value.type = Json::Type::Bool; value.boolean = true; break;
            case 'f': expect_word("false"); value.type = Json::Type::Bool; value.boolean = false; break;
            case 'n': expect_word("null"); value.type = Json::Type::Null; break;
            case '\0':
                if (at_end()) fail("unexpected end of text");
                fail("unexpected character");
            default:
                if (peek() == '-' || (peek() >= '0' && peek() <= '9')) {
                    value.type = Json::Type::Number;
                    value.number = parse_number();
                } else if (peek() == 'N' || peek() == 'I') {
                    // Python's json writes NaN and Infinity; accept them as it does.
                    if (text_.compare(pos_, 3, "NaN") == 0) {
                        pos_ += 3;
                        value.type = Json::Type::Number;
                        value.number = std::strtod("nan", nullptr);
                    } else {
                        expect_word("Infinity");
                        value.type = Json::Type::Number;
                        value.number = std::strtod("inf", nullptr);
                    }
                } else {
                    fail("unexpected character");
                }
        }
        return value;
    }

    void parse_object(Json& value, int depth) {
        value.type = Json::Type::Object;
        ++pos_;  // '{'
        skip_space();
        if (peek() == '}') {
            ++pos_;
            return;
        }
        for (;;) {
            skip_space();
            if (peek() != '"') fail("expected a member name in double quotes");
            std::string key = parse_string();
            skip_space();
            if (peek() != ':') fail("expected ':' after a member name");
            ++pos_;
            skip_space();
            Json member = parse_value(depth + 1);
            bool replaced = false;
            for (auto& entry : value.object) {  // a repeated name: the last one wins, as in Python
                if (entry.first == key) {
                    entry.second = std::move(member);
                    replaced = true;
                    break;
                }
            }
            if (!replaced) value.object.emplace_back(std::move(key), std::move(member));
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') {
                ++pos_;
                return;
            }
            fail("expected ',' or '}' in an object");
        }
    }

    void parse_array(Json& value, int depth) {
        value.type = Json::Type::Array;
        ++pos_;  // '['
        skip_space();
        if (peek() == ']') {
            ++pos_;
            return;
        }
        for (;;) {
            skip_space();
            value.array.push_back(parse_value(depth + 1));
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ']') {
                ++pos_;
                return;
            }
            fail("expected ',' or ']' in an array");
        }
    }

    double parse_number() {
        std::size_t start = pos_;
        if (peek() == '-') {
            ++pos_;
            if (peek() == 'I') {
                expect_word("Infinity");
                return -std::strtod("inf", nullptr);
            }
        }
        if (peek() == '0') {
            ++pos_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9') ++pos_;
        } else {
            fail("expected a digit");
        }
        if (peek() == '.') {
            ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit after '.'");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit in the exponent");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        std::string digits = text_.substr(start, pos_ - start);
        errno = 0;
        char* end = nullptr;
        double number = std::strtod(digits.c_str(), &end);  // the "C" locale: this program never sets another
        if (end != digits.c_str() + digits.size()) fail("malformed number");
        return number;  // an overflow gives +-inf, as Python's float() does
    }

    unsigned hex4() {
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
            char c = peek();
            unsigned digit;
            if (c >= '0' && c <= '9') {
                digit = static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                digit = static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                digit = static_cast<unsigned>(c - 'A' + 10);
            } else {
                fail("expected four hex digits after \\u");
            }
            code = code * 16 + digit;
            ++pos_;
        }
        return code;
    }

    static void append_utf8(std::string& out, unsigned code) {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }

    std::string parse_string() {
        ++pos_;  // opening quote
        std::string out;
        for (;;) {
            if (at_end()) fail("unterminated string");
            char c = text_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_end()) fail("unterminated string");
            char escape = text_[pos_++];
            switch (escape) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned code = hex4();
                    if (code >= 0xD800 && code < 0xDC00 && text_.compare(pos_, 2, "\\u") == 0) {
                        std::size_t back = pos_;
                        pos_ += 2;
                        unsigned low = hex4();
                        if (low >= 0xDC00 && low < 0xE000) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        } else {
                            pos_ = back;  // a lone high surrogate, then another escape
                        }
                    }
                    append_utf8(out, code);
                    break;
                }
                default: --pos_; fail("unknown escape in a string");
            }
        }
    }
};

}  // namespace

const Json* Json::find(const std::string& key) const {
    if (type != Type::Object) return nullptr;
    for (const auto& entry : object) {
        if (entry.first == key) return &entry.second;
    }
    return nullptr;
}

Json Json::parse(const std::string& text) { return Parser(text).document(); }

const char* type_name(Json::Type type) {
    switch (type) {
        case Json::Type::Null: return "null";
        case Json::Type::Bool: return "a boolean";
        case Json::Type::Number: return "a number";
        case Json::Type::String: return "a string";
        case Json::Type::Array: return "an array";
        case Json::Type::Object: return "an object";
    }
    return "?";
}

}  // namespace loupe
