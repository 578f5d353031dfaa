#include <gtest/gtest.h>
#include <torchclr/detail/version.h>

namespace torchclr::test {
namespace {

TEST(VersionTest, ReportsTheLibTorchItWasBuiltWith) {
  const std::string expected = std::to_string(TORCH_VERSION_MAJOR) + "." +
                               std::to_string(TORCH_VERSION_MINOR) + "." +
                               std::to_string(TORCH_VERSION_PATCH);
  EXPECT_EQ(detail::torch_version(), expected);
  EXPECT_EQ(std::string(TORCH_VERSION).rfind(expected, 0), 0u);
}

TEST(VersionTest, AtLeastComparesMajorThenMinor) {
  EXPECT_TRUE(TORCHCLR_TORCH_VERSION_AT_LEAST(1, 13));
  EXPECT_TRUE(TORCHCLR_TORCH_VERSION_AT_LEAST(0, 99));
  EXPECT_TRUE(TORCHCLR_TORCH_VERSION_AT_LEAST(TORCH_VERSION_MAJOR,
                                              TORCH_VERSION_MINOR));
  EXPECT_FALSE(TORCHCLR_TORCH_VERSION_AT_LEAST(TORCH_VERSION_MAJOR,
                                               TORCH_VERSION_MINOR + 1));
  EXPECT_FALSE(TORCHCLR_TORCH_VERSION_AT_LEAST(TORCH_VERSION_MAJOR + 1, 0));
}

}  // namespace
}  // namespace torchclr::test
