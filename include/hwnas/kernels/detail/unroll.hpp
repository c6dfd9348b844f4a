#pragma once
/// @file
/// HWNAS_UNROLL: put before a loop whose trip count is a compile-time constant (the rows and columns of a register
/// tile) to have it unrolled completely at -O2 as well as at -O3. GCC unrolls such loops by itself only at -O3;
/// at -O2 the tile's arrays of SIMD accumulators then live in memory, and the conv kernels ran 4-7x slower in a
/// RelWithDebInfo build, which is what many users of a header-only library compile with.

#if defined(__GNUC__) || defined(__clang__)
#define HWNAS_UNROLL _Pragma("GCC unroll 16")
#else
#define HWNAS_UNROLL
#endif
