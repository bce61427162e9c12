@echo vmapp zip hello {{ version }}
