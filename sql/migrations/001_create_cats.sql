-- One table of cats. The picture lives in a LONGBLOB, as in the talk; everything a
-- reader needs to check it (size, dimensions, sha256, encoding) sits beside it.
CREATE TABLE IF NOT EXISTS cats (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  created_at     TIMESTAMP(3)    NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  source_url     VARCHAR(2048)   NOT NULL,
  mime           VARCHAR(32)     CHARACTER SET ascii NOT NULL,
  width          INT UNSIGNED    NOT NULL,
  height         INT UNSIGNED    NOT NULL,
  original_bytes INT UNSIGNED    NOT NULL COMMENT 'size of the image itself',
  stored_bytes   INT UNSIGNED    NOT NULL COMMENT 'size of the blob; lets dbstats sum sizes without reading blobs',
  sha256         CHAR(64)        CHARACTER SET ascii NOT NULL COMMENT 'hex sha256 of the image bytes',
  encoding       ENUM('escaped-base64', 'raw') NOT NULL,
  image          LONGBLOB        NOT NULL,
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
