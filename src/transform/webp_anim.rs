//! Animated WebP through libwebp's own animation encoder (`WebPAnimEncoder`, the one `cwebp`'s
//! `img2webp` and libvips use): each frame is handed over as it is made and encoded at once, so
//! memory holds the encoder's two canvases and the encoded bytes, whatever the frame count. The
//! `webp` crate's wrapper keeps every frame borrowed until the end, hence this small binding over
//! the same `libwebp-sys` (the only unsafe code of the crate, kept to these calls).
#![allow(unsafe_code)]

use libwebp_sys as sys;
use std::ptr::NonNull;

/// A streaming animated-WebP encoder.
pub(super) struct AnimEncoder {
    encoder: NonNull<sys::WebPAnimEncoder>,
    config: sys::WebPConfig,
    width: u32,
    height: u32,
    timestamp_ms: i32,
}

impl AnimEncoder {
    /// An encoder for `width`×`height` frames, `loop_count` plays (0: forever), lossy at
    /// `quality` or lossless.
    pub(super) fn new(
        width: u32,
        height: u32,
        loop_count: u32,
        quality: u8,
        lossless: bool,
    ) -> Result<AnimEncoder, String> {
        let mut config =
            sys::WebPConfig::new_with_preset(sys::WebPPreset::WEBP_PRESET_DEFAULT, f32::from(quality))
                .map_err(|()| "libwebp refused its default configuration".to_string())?;
        config.lossless = i32::from(lossless);
        if lossless {
            config.quality = 75.0; // effort of the lossless search, as cwebp's default
        }
        // SAFETY: `config` is an initialised WebPConfig.
        if unsafe { sys::WebPValidateConfig(&config) } == 0 {
            return Err("libwebp refused the configuration".into());
        }
        let abi = sys::WebPGetMuxABIVersion();
        let mut options = std::mem::MaybeUninit::<sys::WebPAnimEncoderOptions>::uninit();
        // SAFETY: the init function fills every field of the options it is given.
        if unsafe { sys::WebPAnimEncoderOptionsInitInternal(options.as_mut_ptr(), abi) } == 0 {
            return Err("libwebp's animation encoder has another ABI".into());
        }
        // SAFETY: initialised just above.
        let mut options = unsafe { options.assume_init() };
        options.anim_params.loop_count = i32::try_from(loop_count.min(65_535)).unwrap_or(0);
        let (w, h) = (i32::try_from(width), i32::try_from(height));
        let (Ok(w), Ok(h)) = (w, h) else { return Err("frame too large".into()) };
        // SAFETY: plain values; the encoder copies the options.
        let encoder = unsafe { sys::WebPAnimEncoderNewInternal(w, h, &options, abi) };
        let encoder = NonNull::new(encoder).ok_or("libwebp could not create an animation encoder")?;
        Ok(AnimEncoder { encoder, config, width, height, timestamp_ms: 0 })
    }

    /// Adds one whole-canvas RGBA frame shown for `delay_ms`.
    pub(super) fn add(&mut self, rgba: &[u8], delay_ms: u32) -> Result<(), String> {
        let expected = self.width as usize * self.height as usize * 4;
        if rgba.len() != expected {
            return Err(format!("frame of {} bytes, expected {expected}", rgba.len()));
        }
        let mut picture = sys::WebPPicture::new().map_err(|()| "libwebp could not make a picture")?;
        picture.use_argb = 1;
        picture.width = self.width as i32;
        picture.height = self.height as i32;
        let stride = self.width as i32 * 4;
        // SAFETY: `rgba` holds width × height RGBA pixels (checked above); the import copies them
        // into the picture's own buffer, which WebPPictureFree releases.
        let ok = unsafe {
            let imported = sys::WebPPictureImportRGBA(&mut picture, rgba.as_ptr(), stride);
            let added = imported != 0
                && sys::WebPAnimEncoderAdd(
                    self.encoder.as_ptr(),
                    &mut picture,
                    self.timestamp_ms,
                    &self.config,
                ) != 0;
            sys::WebPPictureFree(&mut picture);
            added
        };
        if !ok {
            return Err(self.error());
        }
        self.timestamp_ms = self.timestamp_ms.saturating_add(i32::try_from(delay_ms).unwrap_or(i32::MAX));
        Ok(())
    }

    /// The encoded file.
    pub(super) fn finish(self) -> Result<Vec<u8>, String> {
        let mut data = sys::WebPData::default();
        // SAFETY: a null frame closes the animation at the last timestamp; Assemble hands back a
        // buffer libwebp allocated, copied out and freed here.
        unsafe {
            if sys::WebPAnimEncoderAdd(
                self.encoder.as_ptr(),
                std::ptr::null_mut(),
                self.timestamp_ms,
                std::ptr::null(),
            ) == 0
                || sys::WebPAnimEncoderAssemble(self.encoder.as_ptr(), &mut data) == 0
            {
                return Err(self.error());
            }
            let bytes = std::slice::from_raw_parts(data.bytes, data.size).to_vec();
            sys::WebPDataClear(&mut data);
            Ok(bytes)
        }
    }

    fn error(&self) -> String {
        // SAFETY: the encoder is alive; the message is a NUL-terminated string it owns.
        let message = unsafe { sys::WebPAnimEncoderGetError(self.encoder.as_ptr()) };
        if message.is_null() {
            return "libwebp's animation encoder failed".into();
        }
        // SAFETY: non-null, NUL-terminated, alive as long as the encoder.
        unsafe { std::ffi::CStr::from_ptr(message) }.to_string_lossy().into_owned()
    }
}

impl Drop for AnimEncoder {
    fn drop(&mut self) {
        // SAFETY: created by WebPAnimEncoderNewInternal, deleted once.
        unsafe { sys::WebPAnimEncoderDelete(self.encoder.as_ptr()) }
    }
}
