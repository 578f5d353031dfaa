#pragma once

// A header with one public item that has no /// comment: the API reference's
// check must name it (tests/CMakeLists.txt,
// api_docs_finds_an_undocumented_item).

namespace torchclr {

/// Documented, so that only the function below is reported.
struct ApiDocsFixture {
  int undocumented_member();
};

}  // namespace torchclr
