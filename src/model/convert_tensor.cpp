#include "model/convert_tensor.h"

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/quant.h"
#include "kernels/thread_pool.h"

namespace qwen3::hf {

void convert_rows(GgmlType src_type, const void* src, GgmlType dst_type, void* dst, int64_t row_len,
                  int64_t n_rows, int n_threads) {
  const auto& si = ggml_type_info(src_type);
  const auto& di = ggml_type_info(dst_type);
  if (row_len <= 0 || n_rows < 0) throw std::invalid_argument("convert_rows: bad shape");
  if (row_len % si.block_size != 0 || row_len % di.block_size != 0)
    throw std::invalid_argument("convert_rows: row length " + std::to_string(row_len) +
                                " is not a multiple of the " + std::string(di.name) +
                                " block size");
  const size_t src_row = ggml_row_size(src_type, row_len);
  const size_t dst_row = ggml_row_size(dst_type, row_len);
  if (src_type == dst_type) {
    std::memcpy(dst, src, src_row * static_cast<size_t>(n_rows));
    return;
  }
  if (!kernels_support(src_type) || !kernels_support(dst_type))
    throw std::invalid_argument("convert_rows: cannot convert " + std::string(si.name) + " to " +
                                std::string(di.name));
  ThreadPool pool(n_threads);
  pool.parallel_for(n_rows, [&](int64_t begin, int64_t end, int) {
    std::vector<float> row(static_cast<size_t>(row_len));
    for (int64_t r = begin; r < end; ++r) {
      const auto* s = static_cast<const uint8_t*>(src) + static_cast<size_t>(r) * src_row;
      auto* d = static_cast<uint8_t*>(dst) + static_cast<size_t>(r) * dst_row;
      // Through a buffer even for F32: mapped data need not be 4-byte aligned.
      dequantize_row(src_type, s, row.data(), row_len);
      quantize_row(dst_type, row.data(), d, row_len);
    }
  });
}

}  // namespace qwen3::hf
