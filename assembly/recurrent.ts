// Gate loops of the fused LSTM and GRU (docs/engine-recurrent.md), one time step per call, on the
// time-major buffers the host keeps resident: a step's gates are [B, G] rows, states [B, H]. The
// recurrent GEMMs run between the calls on the same memory (gemmAt). Each row is processed 4 lanes at a
// time; a tail of H mod 4 runs the same code on splatted scalars. The lane width is a type parameter
// (W = v128: 4 lanes, W = f32: 1), so each body is compiled twice with the branches resolved.
import { sigmoidv, tanhv } from "./activations";

function ld<W>(p: usize): v128 {
  if (sizeof<W>() === 16) return v128.load(p);
  return f32x4.splat(load<f32>(p));
}

function st<W>(p: usize, v: v128): void {
  if (sizeof<W>() === 16) v128.store(p, v);
  else store<f32>(p, f32x4.extract_lane(v, 0));
}

/** f64 sums at p += the lanes of v (bias gradients, summed in double precision). */
function acc64<W>(p: usize, v: v128): void {
  if (sizeof<W>() === 16) {
    v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
    const hi = f32x4.shuffle(v, v, 2, 3, 2, 3);
    v128.store(p + 16, f64x2.add(v128.load(p + 16), f64x2.promote_low_f32x4(hi)));
  } else {
    store<f64>(p, load<f64>(p) + <f64>f32x4.extract_lane(v, 0));
  }
}

function lstmFwdAt<W>(
  row: usize,
  bias: usize,
  cp: usize,
  cn: usize,
  tc: usize,
  hn: usize,
  out: usize,
  hb: usize,
): void {
  const i = sigmoidv(f32x4.add(ld<W>(row), ld<W>(bias)));
  const f = sigmoidv(f32x4.add(ld<W>(row + hb), ld<W>(bias + hb)));
  const g = tanhv(f32x4.add(ld<W>(row + 2 * hb), ld<W>(bias + 2 * hb)));
  const o = sigmoidv(f32x4.add(ld<W>(row + 3 * hb), ld<W>(bias + 3 * hb)));
  st<W>(row, i);
  st<W>(row + hb, f);
  st<W>(row + 2 * hb, g);
  st<W>(row + 3 * hb, o);
  const c = f32x4.add(f32x4.mul(f, ld<W>(cp)), f32x4.mul(i, g));
  st<W>(cn, c);
  const t = tanhv(c);
  st<W>(tc, t);
  const h = f32x4.mul(o, t);
  st<W>(hn, h);
  if (out !== 0) st<W>(out, h);
}

/**
 * LSTM step forward. gates [B, 4H] hold x·W_ihᵀ + h·W_hhᵀ and become i, f, g, o; bias [4H] = b_ih + b_hh;
 * c_t, tanh c_t and h_t are written to cNext, tanhC, hNext ([B, H] each); h_t also to out + b·outStride
 * (floats) when out ≠ 0.
 */
export function lstmForwardStep(
  B: i32,
  H: i32,
  gates: usize,
  bias: usize,
  cPrev: usize,
  cNext: usize,
  tanhC: usize,
  hNext: usize,
  out: usize,
  outStride: i32,
): void {
  const hb = (<usize>H) << 2;
  const h4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const row = gates + <usize>b * 4 * hb;
    const s = <usize>b * hb;
    const o = out === 0 ? <usize>0 : out + ((<usize>b * outStride) << 2);
    let j = 0;
    for (; j < h4; j += 4) {
      const jb = (<usize>j) << 2;
      lstmFwdAt<v128>(
        row + jb,
        bias + jb,
        cPrev + s + jb,
        cNext + s + jb,
        tanhC + s + jb,
        hNext + s + jb,
        o === 0 ? <usize>0 : o + jb,
        hb,
      );
    }
    for (; j < H; j++) {
      const jb = (<usize>j) << 2;
      lstmFwdAt<f32>(
        row + jb,
        bias + jb,
        cPrev + s + jb,
        cNext + s + jb,
        tanhC + s + jb,
        hNext + s + jb,
        o === 0 ? <usize>0 : o + jb,
        hb,
      );
    }
  }
}

function lstmBwdAt<W>(
  row: usize,
  cp: usize,
  tc: usize,
  dh: usize,
  dc: usize,
  db: usize,
  gout: usize,
  hb: usize,
): void {
  const one = f32x4.splat(1.0);
  const i = ld<W>(row);
  const f = ld<W>(row + hb);
  const g = ld<W>(row + 2 * hb);
  const o = ld<W>(row + 3 * hb);
  const t = ld<W>(tc);
  let dhv = ld<W>(dh);
  if (gout !== 0) dhv = f32x4.add(dhv, ld<W>(gout));
  const dcv = f32x4.add(ld<W>(dc), f32x4.mul(f32x4.mul(dhv, o), f32x4.sub(one, f32x4.mul(t, t))));
  const di = f32x4.mul(f32x4.mul(dcv, g), f32x4.mul(i, f32x4.sub(one, i)));
  const df = f32x4.mul(f32x4.mul(dcv, ld<W>(cp)), f32x4.mul(f, f32x4.sub(one, f)));
  const dg = f32x4.mul(f32x4.mul(dcv, i), f32x4.sub(one, f32x4.mul(g, g)));
  const dO = f32x4.mul(f32x4.mul(dhv, t), f32x4.mul(o, f32x4.sub(one, o)));
  st<W>(row, di);
  st<W>(row + hb, df);
  st<W>(row + 2 * hb, dg);
  st<W>(row + 3 * hb, dO);
  acc64<W>(db, di);
  acc64<W>(db + 2 * hb, df);
  acc64<W>(db + 4 * hb, dg);
  acc64<W>(db + 6 * hb, dO);
  st<W>(dc, f32x4.mul(dcv, f));
}

/**
 * LSTM step back. dh [B, H] = dL/dh_t without the output's share, which is added from gOut + b·gStride
 * (floats) when gOut ≠ 0; dc [B, H] = dL/dc_t. The activations in gates [B, 4H] become the
 * pre-activation gradients, dBias (f64 [4H]) grows by them, and dc becomes dL/dc_{t−1} (the f path).
 */
export function lstmBackwardStep(
  B: i32,
  H: i32,
  gates: usize,
  cPrev: usize,
  tanhC: usize,
  dh: usize,
  dc: usize,
  dBias: usize,
  gOut: usize,
  gStride: i32,
): void {
  const hb = (<usize>H) << 2;
  const h4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const row = gates + <usize>b * 4 * hb;
    const s = <usize>b * hb;
    const go = gOut === 0 ? <usize>0 : gOut + ((<usize>b * gStride) << 2);
    let j = 0;
    for (; j < h4; j += 4) {
      const jb = (<usize>j) << 2;
      lstmBwdAt<v128>(
        row + jb,
        cPrev + s + jb,
        tanhC + s + jb,
        dh + s + jb,
        dc + s + jb,
        dBias + 2 * jb,
        go === 0 ? <usize>0 : go + jb,
        hb,
      );
    }
    for (; j < H; j++) {
      const jb = (<usize>j) << 2;
      lstmBwdAt<f32>(
        row + jb,
        cPrev + s + jb,
        tanhC + s + jb,
        dh + s + jb,
        dc + s + jb,
        dBias + 2 * jb,
        go === 0 ? <usize>0 : go + jb,
        hb,
      );
    }
  }
}

function gruFwdAt<W>(
  row: usize,
  hrow: usize,
  bRz: usize,
  bIn: usize,
  bHn: usize,
  hp: usize,
  hn: usize,
  out: usize,
  hb: usize,
): void {
  const r = sigmoidv(f32x4.add(f32x4.add(ld<W>(row), ld<W>(hrow)), ld<W>(bRz)));
  const z = sigmoidv(f32x4.add(f32x4.add(ld<W>(row + hb), ld<W>(hrow + hb)), ld<W>(bRz + hb)));
  const hnv = f32x4.add(ld<W>(hrow + 2 * hb), ld<W>(bHn));
  const n = tanhv(f32x4.add(f32x4.add(ld<W>(row + 2 * hb), ld<W>(bIn)), f32x4.mul(r, hnv)));
  st<W>(row, r);
  st<W>(row + hb, z);
  st<W>(row + 2 * hb, n);
  st<W>(hrow + 2 * hb, hnv);
  const h = f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1.0), z), n), f32x4.mul(z, ld<W>(hp)));
  st<W>(hn, h);
  if (out !== 0) st<W>(out, h);
}

/**
 * GRU step forward. gates [B, 3H] hold x·W_ihᵀ and become r, z, n; hidden [B, 3H] holds h·W_hhᵀ and its
 * n block becomes W_hn h + b_hn. biasRz [2H] = b_ih + b_hh for r and z; biasIn, biasHn [H].
 */
export function gruForwardStep(
  B: i32,
  H: i32,
  gates: usize,
  hidden: usize,
  biasRz: usize,
  biasIn: usize,
  biasHn: usize,
  hPrev: usize,
  hNext: usize,
  out: usize,
  outStride: i32,
): void {
  const hb = (<usize>H) << 2;
  const h4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const row = gates + <usize>b * 3 * hb;
    const hrow = hidden + <usize>b * 3 * hb;
    const s = <usize>b * hb;
    const o = out === 0 ? <usize>0 : out + ((<usize>b * outStride) << 2);
    let j = 0;
    for (; j < h4; j += 4) {
      const jb = (<usize>j) << 2;
      gruFwdAt<v128>(
        row + jb,
        hrow + jb,
        biasRz + jb,
        biasIn + jb,
        biasHn + jb,
        hPrev + s + jb,
        hNext + s + jb,
        o === 0 ? <usize>0 : o + jb,
        hb,
      );
    }
    for (; j < H; j++) {
      const jb = (<usize>j) << 2;
      gruFwdAt<f32>(
        row + jb,
        hrow + jb,
        biasRz + jb,
        biasIn + jb,
        biasHn + jb,
        hPrev + s + jb,
        hNext + s + jb,
        o === 0 ? <usize>0 : o + jb,
        hb,
      );
    }
  }
}

function gruBwdAt<W>(
  row: usize,
  hrow: usize,
  hp: usize,
  dh: usize,
  dbIh: usize,
  dbHn: usize,
  gout: usize,
  hb: usize,
): void {
  const one = f32x4.splat(1.0);
  const r = ld<W>(row);
  const z = ld<W>(row + hb);
  const n = ld<W>(row + 2 * hb);
  let dhv = ld<W>(dh);
  if (gout !== 0) dhv = f32x4.add(dhv, ld<W>(gout));
  const dn = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
  const dr = f32x4.mul(f32x4.mul(dn, ld<W>(hrow + 2 * hb)), f32x4.mul(r, f32x4.sub(one, r)));
  const dz = f32x4.mul(f32x4.mul(dhv, f32x4.sub(ld<W>(hp), n)), f32x4.mul(z, f32x4.sub(one, z)));
  const dnr = f32x4.mul(dn, r);
  st<W>(row, dr);
  st<W>(row + hb, dz);
  st<W>(row + 2 * hb, dn);
  st<W>(hrow, dr);
  st<W>(hrow + hb, dz);
  st<W>(hrow + 2 * hb, dnr);
  acc64<W>(dbIh, dr);
  acc64<W>(dbIh + 2 * hb, dz);
  acc64<W>(dbIh + 4 * hb, dn);
  acc64<W>(dbHn, dnr);
  st<W>(dh, f32x4.mul(dhv, z));
}

/**
 * GRU step back. dh [B, H] = dL/dh_t without the output's share (added from gOut + b·gStride when
 * gOut ≠ 0). gates become [dr, dz, dn], hidden becomes [dr, dz, r·dn], dbIh (f64 [3H]) and dbHn
 * (f64 [H]) grow, and dh keeps the direct path dh·z.
 */
export function gruBackwardStep(
  B: i32,
  H: i32,
  gates: usize,
  hidden: usize,
  hPrev: usize,
  dh: usize,
  dbIh: usize,
  dbHn: usize,
  gOut: usize,
  gStride: i32,
): void {
  const hb = (<usize>H) << 2;
  const h4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const row = gates + <usize>b * 3 * hb;
    const hrow = hidden + <usize>b * 3 * hb;
    const s = <usize>b * hb;
    const go = gOut === 0 ? <usize>0 : gOut + ((<usize>b * gStride) << 2);
    let j = 0;
    for (; j < h4; j += 4) {
      const jb = (<usize>j) << 2;
      gruBwdAt<v128>(
        row + jb,
        hrow + jb,
        hPrev + s + jb,
        dh + s + jb,
        dbIh + 2 * jb,
        dbHn + 2 * jb,
        go === 0 ? <usize>0 : go + jb,
        hb,
      );
    }
    for (; j < H; j++) {
      const jb = (<usize>j) << 2;
      gruBwdAt<f32>(
        row + jb,
        hrow + jb,
        hPrev + s + jb,
        dh + s + jb,
        dbIh + 2 * jb,
        dbHn + 2 * jb,
        go === 0 ? <usize>0 : go + jb,
        hb,
      );
    }
  }
}
