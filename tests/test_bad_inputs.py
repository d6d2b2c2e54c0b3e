"""Every kind of bad input raises one DataError that names the file and says how to fix it."""
import json

import numpy as np
import pytest
from PIL import Image

from seam_nb.config import get_config
from seam_nb.data.synth import voc_palette
from seam_nb.data.voc import DataError, SegDataset, derive_labels, fake_voc, open_split, VOC_CLASSES


@pytest.fixture
def voc(tmp_path):
    return fake_voc(tmp_path / 'VOC2012', n=3)


def raises_naming(path, fn):
    with pytest.raises(DataError) as e:
        fn()
    assert str(path) in str(e.value), f'error does not name {path}: {e.value}'
    assert 'Fix:' in str(e.value)
    return e.value


def test_missing_root(tmp_path):
    raises_naming(tmp_path / 'nowhere', lambda: SegDataset(tmp_path / 'nowhere', 'train'))
    raises_naming('<root>', lambda: open_split(get_config('paper'), 'train'))


def test_root_without_jpegimages(tmp_path):
    (tmp_path / 'empty').mkdir()
    raises_naming(tmp_path / 'empty' / 'JPEGImages', lambda: SegDataset(tmp_path / 'empty', 'train'))


def test_missing_split_file(voc):
    err = raises_naming(voc / 'ImageSets/Segmentation/train_aug.txt', lambda: SegDataset(voc, 'train_aug'))
    assert 'SBD' in str(err)


def test_listed_image_missing(voc):
    (voc / 'JPEGImages/2007_000001.jpg').unlink()
    raises_naming(voc / 'JPEGImages/2007_000001.jpg', lambda: SegDataset(voc, 'train'))
    with pytest.warns(UserWarning, match='2007_000001.jpg'):
        ds = SegDataset(voc, 'train', skip_bad=True)
    assert ds.ids == ['2007_000000', '2007_000002'] and ds.skipped[0][0] == '2007_000001'


def test_missing_mask(voc):
    (voc / 'SegmentationClass/2007_000002.png').unlink()
    raises_naming(voc / 'SegmentationClass/2007_000002.png', lambda: SegDataset(voc, 'train'))
    assert len(SegDataset(voc, 'train', with_mask=False)) == 3, 'images without masks load when masks are not needed'


def test_corrupt_jpeg(voc):
    p = voc / 'JPEGImages/2007_000000.jpg'
    p.write_bytes(p.read_bytes()[:60])   # truncated
    ds = SegDataset(voc, 'train')
    raises_naming(p, lambda: ds[0])
    raises_naming(p, lambda: ds.verify(progress=False))


def test_corrupt_png(voc):
    p = voc / 'SegmentationClass/2007_000001.png'
    p.write_bytes(b'\x89PNG\r\n\x1a\n garbage')
    raises_naming(p, lambda: SegDataset(voc, 'train')[1])


def test_mask_label_outside_class_set(voc):
    p = voc / 'SegmentationClass/2007_000000.png'
    m = np.zeros((30, 40), np.uint8); m[3:9, 3:9] = 42
    im = Image.fromarray(m, 'P'); im.putpalette(voc_palette()); im.save(p)
    err = raises_naming(p, lambda: SegDataset(voc, 'train')[0])
    assert '42' in str(err)


def test_mask_saved_as_colours(voc):
    p = voc / 'SegmentationClass/2007_000000.png'
    Image.new('RGB', (40, 30), (128, 0, 0)).save(p)
    raises_naming(p, lambda: SegDataset(voc, 'train')[0])


def test_image_mask_size_mismatch(voc):
    p = voc / 'SegmentationClass/2007_000002.png'
    im = Image.fromarray(np.zeros((20, 20), np.uint8), 'P'); im.putpalette(voc_palette()); im.save(p)
    raises_naming(p, lambda: SegDataset(voc, 'train')[2])


def test_bad_label_file(voc):
    lab = voc / 'cls_labels.json'
    lab.write_text('{not json')
    raises_naming(lab, lambda: SegDataset(voc, 'train'))
    lab.write_text(json.dumps({'classes': list(VOC_CLASSES), 'labels': {'2007_000000': [3], '2007_000001': [99]}}))
    raises_naming(lab, lambda: SegDataset(voc, 'train'))
    lab.write_text(json.dumps({'classes': list(VOC_CLASSES), 'labels': {'2007_000000': [3]}}))
    err = raises_naming(lab, lambda: SegDataset(voc, 'train'))
    assert 'no labels for 2' in str(err)


def test_bad_annotation_xml(voc):
    p = voc / 'Annotations/2007_000001.xml'
    p.write_text('<annotation><object><name>unicorn</name></object></annotation>')
    raises_naming(p, lambda: derive_labels(voc, ['2007_000001'], VOC_CLASSES, 'xml', cache=False))
    p.write_text('<annotation><object>')
    raises_naming(p, lambda: derive_labels(voc, ['2007_000001'], VOC_CLASSES, 'xml', cache=False))


def test_labels_are_cached_by_content(voc, monkeypatch):
    import seam_nb.data.voc as V
    ids = ['2007_000000', '2007_000001', '2007_000002']
    first = derive_labels(voc, ids, VOC_CLASSES, 'xml')
    parsed = []
    monkeypatch.setattr(V, '_labels_from_xml', lambda p, c: parsed.append(p) or [VOC_CLASSES.index('horse')])
    assert derive_labels(voc, ids, VOC_CLASSES, 'xml') == first and parsed == [], 'unchanged files are read from the cache'
    (voc / 'Annotations/2007_000001.xml').write_text('<annotation><object><name>horse</name></object></annotation>')
    again = derive_labels(voc, ids, VOC_CLASSES, 'xml')
    assert parsed == [voc / 'Annotations/2007_000001.xml'], 'only the edited annotation is parsed again'
    assert again['2007_000001'] == [VOC_CLASSES.index('horse')] and again['2007_000000'] == first['2007_000000']


def test_damaged_label_cache_is_named_and_rebuilt(voc, tmp_path):
    ids = ['2007_000000', '2007_000001']
    first = derive_labels(voc, ids, VOC_CLASSES, 'xml')
    cache = next((tmp_path / 'seam-nb-data' / 'labels').glob('*.json'))
    cache.write_text(cache.read_text().replace('[', '[9, ', 1))   # valid JSON, wrong content
    with pytest.warns(UserWarning, match=str(cache)):
        assert derive_labels(voc, ids, VOC_CLASSES, 'xml') == first


def test_skip_bad_skips_a_corrupt_mask_when_labels_come_from_masks(voc):
    import shutil
    shutil.rmtree(voc / 'Annotations')
    p = voc / 'SegmentationClass/2007_000001.png'
    p.write_bytes(b'\x89PNG\r\n\x1a\n garbage')
    raises_naming(p, lambda: SegDataset(voc, 'train', label_source='mask'))
    with pytest.warns(UserWarning, match='2007_000001'):
        ds = SegDataset(voc, 'train', label_source='mask', skip_bad=True)
    assert ds.ids == ['2007_000000', '2007_000002'] and ds.skipped[0][0] == '2007_000001'


def test_split_file_with_bom_duplicates_or_bad_encoding(voc):
    f = voc / 'ImageSets/Segmentation/train.txt'
    f.write_bytes('\ufeff2007_000000\n2007_000001\n'.encode('utf-8'))
    assert SegDataset(voc, 'train').ids == ['2007_000000', '2007_000001'], 'a byte-order mark is not part of the first id'
    f.write_text('2007_000000\n2007_000001\n2007_000000\n')
    err = raises_naming(f, lambda: SegDataset(voc, 'train'))
    assert "'2007_000000'" in str(err)
    f.write_bytes(b'2007_000000\n\xff\xfe2007\n')
    err = raises_naming(f, lambda: SegDataset(voc, 'train'))
    assert 'not UTF-8' in str(err)
