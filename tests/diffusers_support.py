"""Tiny random-weight diffusers video pipelines built in code (tokenizer too), saved to folders."""

from __future__ import annotations

from pathlib import Path

import torch

WORDS = [
    "a",
    "the",
    "woman",
    "man",
    "cat",
    "dog",
    "walks",
    "runs",
    "street",
    "rain",
    "night",
    "day",
    "says",
    "hello",
    "red",
    "blue",
]


def tiny_tokenizer():
    """A word-level T5-style tokenizer: pad 0, eos 1, unk 2, then a few words."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<pad>", "</s>", "<unk>", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=64,
    )


def _t5_config(cls):
    return cls(
        vocab_size=32,
        d_model=32,
        d_kv=8,
        d_ff=32,
        num_layers=1,
        num_heads=2,
        relative_attention_num_buckets=8,
    )


def wan_pipeline(i2v: bool = False):
    """Wan 2.1 T2V (WanPipeline) or I2V (WanImageToVideoPipeline with a tiny CLIP image encoder)."""
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanPipeline,
        WanTransformer3DModel,
    )
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        CLIPVisionModel,
        UMT5Config,
        UMT5EncoderModel,
    )

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    text_encoder = UMT5EncoderModel(_t5_config(UMT5Config))
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=36 if i2v else 16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        image_dim=4 if i2v else None,
    )
    parts = dict(
        tokenizer=tiny_tokenizer(),
        text_encoder=text_encoder,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        transformer=transformer,
    )
    if not i2v:
        return WanPipeline(**parts)
    image_encoder = CLIPVisionModel(
        CLIPVisionConfig(
            hidden_size=4,
            projection_dim=4,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            intermediate_size=16,
            patch_size=1,
        )
    )
    processor = CLIPImageProcessor(crop_size=32, size=32)
    return WanImageToVideoPipeline(image_encoder=image_encoder, image_processor=processor, **parts)


def ltx_pipeline(i2v: bool = False, decoder_upscales: bool = False):
    """LTX-Video T2V or I2V. decoder_upscales: a decoder with one more 2x stage than the encoder,
    so the pipeline returns frames twice the size it was asked for (a broken model)."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXImageToVideoPipeline,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    scaling = (True, True, False, False)
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        spatio_temporal_scaling=scaling,
        decoder_spatio_temporal_scaling=(True, True, True, False) if decoder_upscales else scaling,
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    cls = LTXImageToVideoPipeline if i2v else LTXPipeline
    return cls(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=T5EncoderModel(_t5_config(T5Config)),
        tokenizer=tiny_tokenizer(),
        transformer=transformer,
    )


def save_pipeline(pipe, folder: Path) -> Path:
    pipe.save_pretrained(str(folder))
    return folder


# Options that keep every call tiny: 64x64 frames, 2 steps, a short text sequence.
TINY = "size=64x64&steps=2&guidance=3&max_sequence_length=16"
