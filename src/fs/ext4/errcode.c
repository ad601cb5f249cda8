// SPDX-License-Identifier: MIT
/*
 * The one place an errcode_t becomes -errno (modelled on e2fsprogs'
 * misc/fuse2fs.c translate_error): what libext2fs says about the image's
 * own structure is corruption (-EUCLEAN); an error kbox does not know is
 * -EIO, logged once so that it can be added here.
 */
#include <errno.h>
#include <string.h>

#include "fs/ext4/internal.h"
#include "lib/log.h"

struct errmap {
	errcode_t code;
	int err;
};

static const struct errmap map[] = {
	{EXT2_ET_NO_MEMORY, ENOMEM},
	{EXT2_ET_BLOCK_ALLOC_FAIL, ENOSPC},
	{EXT2_ET_INODE_ALLOC_FAIL, ENOSPC},
	{EXT2_ET_EA_NO_SPACE, ENOSPC},
	{EXT2_ET_DIR_NO_SPACE, ENOSPC},
	{EXT2_ET_EXTENT_NO_SPACE, ENOSPC},
	{EXT2_ET_INLINE_DATA_NO_SPACE, ENOSPC},
	{EXT2_ET_TOO_MANY_INODES, ENOSPC},
	{EXT2_ET_EA_KEY_NOT_FOUND, ENODATA},
	{EXT2_ET_EA_BAD_NAME_LEN, ERANGE},
	{EXT2_ET_EA_BAD_VALUE_SIZE, E2BIG},
	{EXT2_ET_FILE_NOT_FOUND, ENOENT},
	{EXT2_ET_DIR_EXISTS, EEXIST},
	{EXT2_ET_FILE_EXISTS, EEXIST},
	{EXT2_ET_NO_DIRECTORY, ENOTDIR},
	{EXT2_ET_TOO_MANY_REFS, EMLINK},
	{EXT2_ET_FILE_TOO_BIG, EFBIG},
	{EXT2_ET_RO_FILSYS, EROFS},
	{EXT2_ET_FILE_RO, EROFS},
	{EXT2_ET_SYMLINK_LOOP, ELOOP},
	{EXT2_ET_INVALID_ARGUMENT, EINVAL},
	{EXT2_ET_SHORT_READ, EIO},
	{EXT2_ET_GDESC_READ, EIO},
	{EXT2_ET_GDESC_WRITE, EIO},
	{EXT2_ET_INODE_BITMAP_READ, EIO},
	{EXT2_ET_INODE_BITMAP_WRITE, EIO},
	{EXT2_ET_BLOCK_BITMAP_READ, EIO},
	{EXT2_ET_BLOCK_BITMAP_WRITE, EIO},
	{EXT2_ET_INODE_TABLE_READ, EIO},
	{EXT2_ET_INODE_TABLE_WRITE, EIO},
	{EXT2_ET_NEXT_INODE_READ, EIO},
	{EXT2_ET_SHORT_WRITE, EIO},
	{EXT2_ET_LLSEEK_FAILED, EIO},
	{EXT2_ET_UNIMPLEMENTED, EOPNOTSUPP},
	{EXT2_ET_OP_NOT_SUPPORTED, EOPNOTSUPP},
	{EXT2_ET_INLINE_DATA_CANT_ITERATE, EOPNOTSUPP},
	{EXT2_ET_EXTENT_NOT_SUPPORTED, EOPNOTSUPP},
	{EXT2_ET_UNSUPP_FEATURE, EOPNOTSUPP},
	{EXT2_ET_RO_UNSUPP_FEATURE, EOPNOTSUPP},
	{EXT2_ET_MISSING_EA_FEATURE, EOPNOTSUPP},
	{EXT2_ET_EXTERNAL_JOURNAL_NOSUPP, EOPNOTSUPP},
	{EXT2_ET_BAD_MAGIC, EINVAL},
};

/* Errors that mean the image itself is inconsistent. */
static const errcode_t corrupt[] = {
	EXT2_ET_DIR_CORRUPTED,
	EXT2_ET_CORRUPT_SUPERBLOCK,
	EXT2_ET_GDESC_BAD_BLOCK_MAP,
	EXT2_ET_GDESC_BAD_INODE_MAP,
	EXT2_ET_GDESC_BAD_INODE_TABLE,
	EXT2_ET_BAD_INODE_NUM,
	EXT2_ET_BAD_BLOCK_NUM,
	EXT2_ET_BAD_IND_BLOCK,
	EXT2_ET_BAD_DIND_BLOCK,
	EXT2_ET_BAD_TIND_BLOCK,
	EXT2_ET_MISSING_INODE_TABLE,
	EXT2_ET_BAD_EA_BLOCK_NUM,
	EXT2_ET_BAD_EA_HASH,
	EXT2_ET_BAD_EA_HEADER,
	EXT2_ET_EA_BAD_VALUE_OFFSET,
	EXT2_ET_EXTENT_HEADER_BAD,
	EXT2_ET_EXTENT_INDEX_BAD,
	EXT2_ET_EXTENT_LEAF_BAD,
	EXT2_ET_EXTENT_CYCLE,
	EXT2_ET_INODE_CSUM_INVALID,
	EXT2_ET_INODE_BITMAP_CSUM_INVALID,
	EXT2_ET_BLOCK_BITMAP_CSUM_INVALID,
	EXT2_ET_EXTENT_CSUM_INVALID,
	EXT2_ET_DIR_CSUM_INVALID,
	EXT2_ET_EXT_ATTR_CSUM_INVALID,
	EXT2_ET_SB_CSUM_INVALID,
	EXT2_ET_UNKNOWN_CSUM,
	EXT2_ET_BAD_CRC,
	EXT2_ET_INODE_IS_GARBAGE,
	EXT2_ET_INODE_CORRUPTED,
	EXT2_ET_EA_INODE_CORRUPTED,
	EXT2_ET_FILESYSTEM_CORRUPTED,
	EXT2_ET_BAD_DESC_SIZE,
	EXT2_ET_NO_GDESC,
	EXT2_ET_CORRUPT_JOURNAL_SB,
	EXT2_ET_DIR_NO_SPACE_FOR_CSUM,
};

int kbox_ext4_errno(errcode_t err)
{
	if (!err)
		return 0;
	/* libext2fs passes system errors through as plain errno values. */
	if (err > 0 && err < 256)
		return -(int)err;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].code == err)
			return -map[i].err;
	for (size_t i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++)
		if (corrupt[i] == err)
			return -EUCLEAN;
	kbox_warn("ext4: libext2fs error %ld (%s) reported as EIO", (long)err, error_message(err));
	return -EIO;
}

int kbox_ext4_done(struct kbox_ext4 *x, int err)
{
	if (err == -EIO || err == -EUCLEAN || err == -ENOMEM) {
		if (!x->damaged)
			kbox_err("ext4: a write to the image failed half-way (%s); it will be left "
				 "for e2fsck -fy",
				 strerror(-err));
		x->damaged = true;
	}
	return err;
}
