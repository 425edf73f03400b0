// Blocking constants shared by the packing routines and the SGEMM driver.
// MR×NR is the register tile: 8 f32x4 accumulators + 2 B vectors + 1 broadcast A value fit the 15
// allocatable XMM registers V8 leaves us on x64 without spilling.
export const MR: i32 = 4;
export const NR: i32 = 8;
// KC×NR floats of B (one sliver, 8 KiB at KC=256) stay in L1 while the micro-kernel walks the
// MC×KC block of packed A (128 KiB) out of L2; the KC×NC panel of packed B (1 MiB) lives in L2/L3.
export const MC: i32 = 128;
export const KC: i32 = 256;
export const NC: i32 = 1024;

/** Bytes of scratch `sgemm` needs: packed A block, packed B panel, and one MR×NR edge tile. */
export const SCRATCH_BYTES: i32 = (MC * KC + KC * NC + MR * NR) << 2;
