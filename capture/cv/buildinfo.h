#ifndef CLIPFLEET_CAPTURE_CV_BUILDINFO_H
#define CLIPFLEET_CAPTURE_CV_BUILDINFO_H

#ifdef __cplusplus
extern "C" {
#endif

// clipfleet_cv_build_information returns cv::getBuildInformation() in a
// malloc'd string the caller frees; gocv v0.31.0 does not wrap it.
char* clipfleet_cv_build_information(void);

#ifdef __cplusplus
}
#endif

#endif
