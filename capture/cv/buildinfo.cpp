#include <opencv2/core/utility.hpp>
#include <cstdlib>
#include <cstring>

#include "buildinfo.h"

char* clipfleet_cv_build_information(void) {
    const cv::String& info = cv::getBuildInformation();
    char* out = static_cast<char*>(std::malloc(info.size() + 1));
    if (out == nullptr) {
        return nullptr;
    }
    std::memcpy(out, info.c_str(), info.size() + 1);
    return out;
}
