//! Which kernel level this CPU can run, from CPUID and XGETBV (no `std` needed).

/// The best level the CPU and OS support: 4 (x86-64-v4: AVX-512 F/BW/CD/DQ/VL), 3
/// (x86-64-v3: AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE) or 1 (baseline).
#[cfg(target_arch = "x86_64")]
pub fn best_level() -> u8 {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86-64 CPU; leaves above the maximum are not queried.
    let (max, l1, l7, e1) = unsafe {
        let max = __cpuid(0).eax;
        let ext = __cpuid(0x8000_0000).eax;
        let l1 = __cpuid(1);
        let l7 = if max >= 7 { __cpuid_count(7, 0) } else { __cpuid(0) };
        let e1 = if ext >= 0x8000_0001 { __cpuid(0x8000_0001).ecx } else { 0 };
        (max, l1, l7, e1)
    };
    let bit = |r: u32, b: u32| r & (1 << b) != 0;
    if max < 7 || !bit(l1.ecx, 27) || !bit(l1.ecx, 28) {
        return 1; // no OSXSAVE or no AVX
    }
    // SAFETY: OSXSAVE (CPUID.1:ECX bit 27) is set, so XGETBV is available.
    let xcr0 = unsafe { xgetbv0() };
    let ymm = xcr0 & 0b110 == 0b110;
    let zmm = xcr0 & 0xe6 == 0xe6;
    let v3 = ymm
        && bit(l1.ecx, 12) // fma
        && bit(l1.ecx, 22) // movbe
        && bit(l1.ecx, 29) // f16c
        && bit(l7.ebx, 3) // bmi1
        && bit(l7.ebx, 5) // avx2
        && bit(l7.ebx, 8) // bmi2
        && bit(e1, 5); // lzcnt
    let v4 = v3 && zmm && [16, 17, 28, 30, 31].iter().all(|b| bit(l7.ebx, *b));
    if v4 {
        4
    } else if v3 {
        3
    } else {
        1
    }
}

/// Other architectures have one (portable) level.
#[cfg(not(target_arch = "x86_64"))]
pub fn best_level() -> u8 {
    1
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "xsave")]
unsafe fn xgetbv0() -> u64 {
    // SAFETY: the caller checked OSXSAVE; register 0 (XCR0) is always readable then.
    unsafe { core::arch::x86_64::_xgetbv(0) }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    #[test]
    fn agrees_with_std_detection() {
        let v3 = ["avx2", "fma", "bmi1", "bmi2", "f16c", "lzcnt", "movbe"];
        let std_v3 = is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("bmi1")
            && is_x86_feature_detected!("bmi2")
            && is_x86_feature_detected!("f16c")
            && is_x86_feature_detected!("lzcnt")
            && is_x86_feature_detected!("movbe");
        let std_v4 = std_v3
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512cd")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl");
        let want = if std_v4 {
            4
        } else if std_v3 {
            3
        } else {
            1
        };
        assert_eq!(super::best_level(), want, "{v3:?}");
    }
}
