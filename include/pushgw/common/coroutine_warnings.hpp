#pragma once
// Include last, in a .cpp with large Asio coroutines that GCC 12 reports as
// "-Wmismatched-new-delete". A false positive: GCC inlines Asio's frame allocator
// (thread_info_base::allocate → aligned_alloc) into a coroutine ramp but not the matching
// awaitable_frame_base::operator delete (→ thread_info_base::deallocate → free), and reports
// the pair as mismatched. Both sides are Asio's recycling allocator.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
