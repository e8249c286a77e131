//! Option values: integers, fixed-point decimals and gravities, each refused with the token
//! that carried it.

use super::parse::SpecError;
use super::{Centi, Gravity};

/// A non-negative decimal integer in `min..=max`; leading zeros are allowed (`w_0200`).
pub(super) fn uint(token: &str, v: &str, min: u32, max: u32, why: &str) -> Result<u32, SpecError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SpecError::bad(token, why));
    }
    let digits = v.trim_start_matches('0');
    if digits.len() > 10 {
        return Err(SpecError::bad(token, why));
    }
    let n: u64 =
        if digits.is_empty() { 0 } else { digits.parse().map_err(|_| SpecError::bad(token, why))? };
    if n < u64::from(min) || n > u64::from(max) {
        return Err(SpecError::bad(token, why));
    }
    Ok(n as u32)
}

/// A decimal with at most `places` fractional digits, as an integer scaled by `10^places`.
pub(super) fn fixed(v: &str, places: u32) -> Option<u64> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits_ok(int) || !digits_ok(frac) || frac.len() > places as usize {
        return None;
    }
    if v.ends_with('.') {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() > 9 {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut f: u64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    for _ in frac.len()..places as usize {
        f *= 10;
    }
    Some(int * 10u64.pow(places) + f)
}

pub(super) fn centi(token: &str, v: &str, min: u32, max: u32, why: &str) -> Result<Centi, SpecError> {
    match fixed(v, 2) {
        Some(n) if n >= u64::from(min) && n <= u64::from(max) => Ok(Centi(n as u32)),
        _ => Err(SpecError::bad(token, why)),
    }
}

pub(super) fn gravity(token: &str, v: &str) -> Result<Gravity, SpecError> {
    let compass = |h, v| Ok(Gravity::Compass(h, v));
    match v {
        "center" | "centre" | "c" => compass(1, 1),
        "north" | "n" => compass(1, 0),
        "south" | "s" => compass(1, 2),
        "east" | "e" => compass(2, 1),
        "west" | "w" => compass(0, 1),
        "north_east" | "ne" => compass(2, 0),
        "north_west" | "nw" => compass(0, 0),
        "south_east" | "se" => compass(2, 2),
        "south_west" | "sw" => compass(0, 2),
        "auto" => Ok(Gravity::Auto),
        _ => {
            let why = "gravity must be a compass point or a focal point like 0.25x0.7";
            let (x, y) = v.split_once('x').ok_or_else(|| SpecError::bad(token, why))?;
            match (fixed(x, 4), fixed(y, 4)) {
                (Some(x), Some(y)) if x <= 10_000 && y <= 10_000 => {
                    if (x, y) == (5_000, 5_000) {
                        compass(1, 1)
                    } else {
                        Ok(Gravity::Focal(x as u16, y as u16))
                    }
                }
                _ => Err(SpecError::bad(token, why)),
            }
        }
    }
}
