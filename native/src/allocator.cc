// A caching CPU allocator for large blocks. A training or attack loop allocates the same large
// sizes every step; glibc hands them back from wherever its heap has room, and when small
// allocations (V8's, N-API's) have split the old hole, from freshly grown heap that is page-faulted
// in again: about 5 µs per 4 KiB page, so 30–40 ms for each 33 MB block affected, a third of the
// MLP's optimizer step on average (measured: docs/performance.md). Keeping freed blocks of ≥ 1 MiB
// by exact size and handing them back to the next request of that size removes those faults.
// Small blocks go straight to libtorch's default allocator.
#include <c10/core/CPUAllocator.h>

#include <mutex>
#include <unordered_map>

#include "engine.h"

namespace advdyn {
namespace {

constexpr size_t kMinCached = size_t{1} << 20;

class CachingCpuAllocator final : public at::Allocator {
 public:
  CachingCpuAllocator(at::Allocator* base, size_t capacity) : base_(base), capacity_(capacity) {}

  at::DataPtr allocate(size_t n) const override {
    if (n < kMinCached) return base_->allocate(n);
    void* p = take(n);
    bool missed = !p;
    if (missed) {
      try {
        p = base_->raw_allocate(n);
      } catch (const c10::Error&) {
        release();  // out of memory: what the cache holds may be enough
        p = base_->raw_allocate(n);
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (missed) stats_.misses++;
    live_[p] = n;
    return {p, p, &deleter, at::Device(at::kCPU)};
  }

  at::DeleterFnPtr raw_deleter() const override { return &deleter; }

  CpuCacheStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  static CachingCpuAllocator* instance;

 private:
  void* take(size_t n) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(n);
    if (it == free_.end()) return nullptr;
    void* p = it->second;
    free_.erase(it);
    stats_.cachedBytes -= n;
    stats_.hits++;
    return p;
  }

  // Blocks this allocator did not hand out (small ones, raw_allocate of small sizes) belong to the base.
  static void deleter(void* p) { instance->give(p); }

  void give(void* p) const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = live_.find(p);
      if (it != live_.end()) {
        size_t n = it->second;
        live_.erase(it);
        if (stats_.cachedBytes + n <= capacity_) {
          free_.emplace(n, p);
          stats_.cachedBytes += n;
          return;
        }
      }
    }
    base_->raw_deleter()(p);
  }

  void release() const {
    std::unordered_multimap<size_t, void*> blocks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      blocks.swap(free_);
      stats_.cachedBytes = 0;
    }
    for (auto& [n, p] : blocks) base_->raw_deleter()(p);
  }

  at::Allocator* base_;
  size_t capacity_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<void*, size_t> live_;
  mutable std::unordered_multimap<size_t, void*> free_;
  mutable CpuCacheStats stats_;
};

CachingCpuAllocator* CachingCpuAllocator::instance = nullptr;

}  // namespace

void installCpuCache(size_t capacity) {
  // Never deleted: tensors may be freed during process exit, after static destructors ran.
  CachingCpuAllocator::instance = new CachingCpuAllocator(c10::GetDefaultCPUAllocator(), capacity);
  c10::SetCPUAllocator(CachingCpuAllocator::instance, /*priority=*/1);
}

CpuCacheStats cpuCacheStats() {
  return CachingCpuAllocator::instance ? CachingCpuAllocator::instance->stats() : CpuCacheStats{};
}

}  // namespace advdyn
