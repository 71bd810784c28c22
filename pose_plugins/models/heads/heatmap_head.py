"""Top-down heatmap head: optional deconvolutions, optional convolutions, a final conv to K heatmaps.

Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018
(https://arxiv.org/abs/1804.06208) — three stride-2 deconvolutions on a ResNet's last feature map. HRNet
(Sun et al., CVPR 2019, https://arxiv.org/abs/1902.09212) uses the same head with no deconvolution (its
highest-resolution branch is already at stride 4), just the final 1x1 conv. HRNetV2 face/hand models add one
intermediate conv layer.
"""
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn

from pose_plugins.models.heads.base_pose_head import DEFAULT_FINAL_LAYER, BasePoseHead
from pose_plugins.models.layers.conv_norm_act import ConvNormAct
from pose_plugins.models.layers.deconv_stack import make_deconv_layers
from pose_plugins.registry import MODELS

__all__ = ['HeatmapHead']


@MODELS.register_module()
class HeatmapHead(BasePoseHead):
    """SimpleBaseline / HRNet heatmap head, a drop-in for mmpose's ``HeatmapHead``.

    ``feats[-1]`` -> :class:`~pose_plugins.models.layers.DeconvStack` (``deconv_layers``, optional) ->
    ``(Conv2d -> BN -> ReLU) * n`` (``conv_layers``, optional) -> ``final_layer`` conv to K heatmaps.
    Parameter names (``deconv_layers.*``, ``conv_layers.*``, ``final_layer.*``) are those of mmpose's
    ``HeatmapHead``, so its checkpoints load with ``strict=True``; checkpoints of mmpose 0.x's
    ``TopdownHeatmapSimpleHead`` (intermediate convs stored as ``final_layer.<i>.*``) are renamed on load.
    Flip test, batched decoding, target stacking and ``acc_pose`` come from
    :class:`~pose_plugins.models.heads.base_pose_head.BasePoseHead`.

    Note:
        - B: batch size (one instance per top-down crop)
        - C: ``in_channels``
        - K: number of keypoints, ``out_channels``
        - h, w: input feature map size; H, W: heatmap size (``H = h * 2**n`` with n deconvolutions)

    Args:
        in_channels (int): Channels C of the last feature map.
        out_channels (int): Number of keypoints K.
        deconv_out_channels (Sequence[int], optional): Output channels of each deconv layer; ``None`` or empty
            means no deconvolution (HRNet). Defaults to ``(256, 256, 256)`` (SimpleBaseline).
        deconv_kernel_sizes (Sequence[int], optional): Kernel size (4, 3 or 2) of each deconv layer, same
            length as ``deconv_out_channels``. Defaults to ``(4, 4, 4)``.
        conv_out_channels (Sequence[int], optional): Output channels of each intermediate conv layer; ``None``
            means none. Defaults to ``None``.
        conv_kernel_sizes (Sequence[int], optional): Kernel size (odd; padding ``(k - 1) // 2``) of each
            intermediate conv layer, same length as ``conv_out_channels``. Defaults to ``None``.
        final_layer (Mapping, optional): Overrides for the final ``Conv2d(in, K, kernel_size=1)`` config (e.g.
            ``dict(kernel_size=3, padding=1)``); ``None`` means no final layer. Defaults to
            ``{'kernel_size': 1}``.
        loss (dict, optional): Loss config, built by :data:`pose_plugins.registry.MODELS`. ``None`` means
            ``dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True)``.
        decoder (dict, optional): Codec config used by :meth:`predict`, built by
            :data:`pose_plugins.registry.KEYPOINT_CODECS`. ``None`` disables :meth:`predict`.
        init_cfg (dict | list[dict], optional): mmengine init config. ``None`` means Normal(std=0.001) for
            (transposed) convolutions and constant 1 for BatchNorm weights, as mmpose and the original code.

    Shapes:
        - forward input: tuple of feature maps, the last one (B, C, h, w)
        - forward output: heatmaps (B, K, H, W)
    """

    # Version 2 = mmpose 1.x layout (conv_layers separate from final_layer); older state dicts are converted.
    _version = 2

    def __init__(self,
                 *,
                 in_channels: int,
                 out_channels: int,
                 deconv_out_channels: Optional[Sequence[int]] = (256, 256, 256),
                 deconv_kernel_sizes: Optional[Sequence[int]] = (4, 4, 4),
                 conv_out_channels: Optional[Sequence[int]] = None,
                 conv_kernel_sizes: Optional[Sequence[int]] = None,
                 final_layer: Optional[Mapping[str, Any]] = DEFAULT_FINAL_LAYER,
                 loss: OptConfigType = None,
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(decoder=decoder, init_cfg=init_cfg)
        if not isinstance(in_channels, int):
            raise TypeError(f'in_channels must be an int (channels of the last feature map), got {in_channels!r}')

        self.in_channels = in_channels
        self.out_channels = out_channels
        if loss is None:
            loss = dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True)
        self.loss_module = MODELS.build(loss)

        self.deconv_layers, channels = make_deconv_layers(
            in_channels=in_channels, out_channels=deconv_out_channels, kernel_sizes=deconv_kernel_sizes)

        if conv_out_channels:
            self.conv_layers = self._make_conv_layers(channels, conv_out_channels, conv_kernel_sizes)
            channels = conv_out_channels[-1]
        else:
            self.conv_layers = nn.Identity()

        self.final_layer = self.build_final_layer(channels, out_channels, final_layer)

        self.register_load_state_dict_pre_hook(self._convert_v1_state_dict)

    @staticmethod
    def _make_conv_layers(in_channels: int, out_channels: Sequence[int],
                          kernel_sizes: Optional[Sequence[int]]) -> nn.Sequential:
        """``(Conv2d(k, stride 1, 'same' padding, bias) -> BatchNorm2d -> ReLU)`` per entry, flat-indexed."""
        if kernel_sizes is None or len(kernel_sizes) != len(out_channels):
            raise ValueError('conv_out_channels and conv_kernel_sizes must have the same length, got '
                             f'conv_out_channels={out_channels} and conv_kernel_sizes={kernel_sizes}')
        layers = []
        for width, kernel_size in zip(out_channels, kernel_sizes):
            if kernel_size % 2 != 1:
                raise ValueError(f'conv kernel sizes must be odd to keep the heatmap size, got {kernel_size} in '
                                 f'conv_kernel_sizes={kernel_sizes}')
            layers += ConvNormAct(in_channels, width, kernel_size=kernel_size, bias=True)  # flat, as mmpose's
            in_channels = width
        return nn.Sequential(*layers)

    def forward(self, feats: Tuple[Tensor, ...]) -> Tensor:
        """Heatmaps from the last feature map.

        Args:
            feats (Tuple[Tensor]): Multi-scale feature maps; only ``feats[-1]`` (B, C, h, w) is used.

        Returns:
            Tensor: Heatmaps (B, K, H, W).
        """
        return self.final_layer(self.conv_layers(self.deconv_layers(feats[-1])))

    def loss_terms(self, outputs: Tensor, targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``loss_kpt``: the heatmap loss of the predicted heatmaps.

        Args:
            outputs (Tensor): Predicted heatmaps (B, K, H, W).
            targets (dict): ``heatmaps`` (B, K, H, W) and ``keypoint_weights`` (B, K).

        Returns:
            dict: ``loss_kpt`` (scalar).
        """
        return dict(loss_kpt=self.loss_module(outputs, targets['heatmaps'], targets['keypoint_weights']))

    @staticmethod
    def _convert_v1_state_dict(module: 'HeatmapHead', state_dict: dict, prefix: str, local_metadata: dict,
                               *args: Any) -> None:
        """Rename mmpose 0.x ``TopdownHeatmapSimpleHead`` keys in place.

        The old head kept the intermediate convs and the final conv in one ``final_layer`` Sequential:
        ``final_layer.<i>.<p>`` is ``conv_layers.<i>.<p>`` for ``i < len(conv_layers)`` and ``final_layer.<p>``
        for the last index. Keys without an index (no intermediate convs) are already right. State dicts saved
        by this class or mmpose 1.x (version >= 2) are left alone.
        """
        version = local_metadata.get('version')
        if version is not None and version >= module._version:
            return
        num_conv_children = len(module.conv_layers) if isinstance(module.conv_layers, nn.Sequential) else 0
        old_prefix = prefix + 'final_layer.'
        for key in [k for k in state_dict if k.startswith(old_prefix)]:
            parts = key[len(old_prefix):].split('.')
            if len(parts) != 2 or not parts[0].isdigit():
                continue
            index, param = int(parts[0]), parts[1]
            new_key = (f'{prefix}conv_layers.{index}.{param}'
                       if index < num_conv_children else f'{prefix}final_layer.{param}')
            state_dict[new_key] = state_dict.pop(key)
